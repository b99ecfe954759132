/**
 * @module screens
 * Every screen of the DCUI, by name, for the app.
 */
import type { App, Screen, ScreenName } from "../app.ts";
import { joinScreen } from "./join.ts";
import { logsScreen } from "./logs.ts";
import { mainScreen } from "./main.ts";
import { networkScreen } from "./network.ts";
import { passwordScreen } from "./password.ts";
import { powerScreen } from "./power.ts";
import { servicesScreen } from "./services.ts";
import { shellScreen } from "./shell.ts";

export function allScreens(app: App): Record<ScreenName, Screen> {
  return {
    main: mainScreen(app),
    network: networkScreen(app),
    logs: logsScreen(app),
    join: joinScreen(app),
    services: servicesScreen(app),
    power: powerScreen(app),
    shell: shellScreen(app),
    password: passwordScreen(app),
  };
}
