/**
 * @module app
 * The DCUI's core: which screen is shown, the node state every screen can read
 * (refreshed from qx-node every few seconds), key dispatch (F-keys switch screens from
 * anywhere, Esc goes back to the main screen) and the redraw. Terminal, socket and
 * shell runner are parameters, so tests and the real console share the code.
 *
 * @example
 * ```ts
 * const app = new App({ api: nodeApi(sock), term: terminal(out), runShell, log, screens: allScreens });
 * app.start(); app.input("\x1b[[B"); // F2: Configure Network
 * ```
 */
import type { HealthDocument } from "@quantix/node/services/health";
import type { ConsoleSummary } from "@quantix/node/services/summary";
import { type Key, parseKeys } from "./keys.ts";
import type { NodeApi } from "./node-api.ts";
import { type FrameInput, frame, type Terminal } from "./render.ts";

/** What a screen shows and how it answers keys. */
export interface Screen {
  /** Shown, refreshed: load what it needs (may be called again on re-entry). */
  enter?(): void;
  /** Left: stop timers and streams. */
  leave?(): void;
  view(): FrameInput;
  /** True when the screen used the key (otherwise Esc goes back to the main screen). */
  key(k: Key): boolean;
}

export type ScreenName = "main" | "network" | "logs" | "join" | "services" | "power" | "shell" | "password";

export interface NodeState {
  summary: ConsoleSummary | null;
  health: HealthDocument | null;
  error: string | null;
  at: Date;
}

/** Runs the emergency shell on the console's terminal; resolves when it exits. */
export type ShellRunner = (limitSeconds: number) => Promise<{ code: number | null; timedOut: boolean }>;

export interface AppOptions {
  readonly api: NodeApi;
  readonly term: Terminal;
  readonly runShell: ShellRunner;
  /** The console's own log (stderr, into /var/log/quantix/qx-console.log). */
  readonly log: (msg: string) => void;
  /** Seconds between refreshes of the node state. */
  readonly interval?: number;
  /** Minutes an emergency shell may run. */
  readonly shellMinutes?: number;
  readonly now?: () => Date;
  readonly screens: (app: App) => Record<ScreenName, Screen>;
}

/** F-key → screen, from any screen. */
export const FKEYS: Partial<Record<Key["name"], ScreenName>> = {
  f1: "password",
  f2: "network",
  f3: "logs",
  f4: "join",
  f5: "services",
  f10: "power",
  f12: "shell",
};

/** ms to wait for the rest of an escape sequence before a lone ESC counts as Escape. */
const ESC_WAIT_MS = 60;

export class App {
  state: NodeState;
  current: ScreenName = "main";
  readonly screens: Record<ScreenName, Screen>;
  /** While a shell runs, the console neither draws nor reads keys. */
  suspended = false;
  #pending = "";
  #escTimer: NodeJS.Timeout | undefined;
  #refreshTimer: NodeJS.Timeout | undefined;
  #drawQueued = false;
  #firstBootShown = false;

  constructor(readonly o: AppOptions) {
    this.state = { summary: null, health: null, error: null, at: this.now() };
    this.screens = o.screens(this);
  }

  get api(): NodeApi {
    return this.o.api;
  }
  now(): Date {
    return this.o.now?.() ?? new Date();
  }
  log(msg: string): void {
    this.o.log(`${this.now().toISOString()} ${msg}`);
  }

  start(): void {
    this.draw();
    void this.refresh();
  }
  stop(): void {
    clearTimeout(this.#refreshTimer);
    clearTimeout(this.#escTimer);
    this.screens[this.current].leave?.();
  }

  /** Fetches summary and health; schedules the next refresh. */
  async refresh(): Promise<void> {
    clearTimeout(this.#refreshTimer);
    try {
      const [summary, health] = await Promise.all([
        this.api.call<ConsoleSummary>("GET", "/api/v1/console/summary", undefined),
        this.api.call<HealthDocument>("GET", "/api/v1/health"),
      ]);
      if (summary.status !== 200) throw new Error(`console summary: HTTP ${summary.status}`);
      this.state = { summary: summary.body, health: health.body, error: null, at: this.now() };
      // First boot: the admin sets the password before anything else (Esc skips).
      if (!summary.body.configured && !this.#firstBootShown && this.current === "main") {
        this.#firstBootShown = true;
        this.go("password");
      }
    } catch (e) {
      this.state = { summary: null, health: null, error: e instanceof Error ? e.message : String(e), at: this.now() };
    }
    this.draw();
    this.#refreshTimer = setTimeout(() => void this.refresh(), (this.o.interval ?? 5) * 1000);
    this.#refreshTimer.unref?.();
  }

  go(name: ScreenName): void {
    if (name === this.current) return;
    this.screens[this.current].leave?.();
    this.current = name;
    this.screens[name].enter?.();
    this.draw();
  }

  /** Raw bytes from the terminal. */
  input(chunk: string): void {
    if (this.suspended) return;
    clearTimeout(this.#escTimer);
    const { keys, rest } = parseKeys(this.#pending + chunk);
    this.#pending = rest;
    for (const k of keys) this.key(k);
    if (rest) {
      this.#escTimer = setTimeout(() => {
        const r = parseKeys(this.#pending, true);
        this.#pending = "";
        for (const k of r.keys) this.key(k);
      }, ESC_WAIT_MS);
    }
  }

  key(k: Key): void {
    if (k.name === "ctrl-l") {
      this.o.term.reset();
      this.draw();
      return;
    }
    const target = FKEYS[k.name];
    if (target) {
      this.go(target);
      return;
    }
    const used = this.screens[this.current].key(k);
    if (!used && k.name === "escape") this.go("main");
    this.draw();
  }

  /** Redraws on the next tick (many changes, one paint). */
  draw(): void {
    if (this.#drawQueued) return;
    this.#drawQueued = true;
    queueMicrotask(() => {
      this.#drawQueued = false;
      if (!this.suspended) this.o.term.draw(frame(this.screens[this.current].view()));
    });
  }

  /** Hands the terminal to an emergency shell, then takes it back. */
  async shell(): Promise<{ code: number | null; timedOut: boolean }> {
    this.suspended = true;
    this.o.term.release();
    try {
      return await this.o.runShell((this.o.shellMinutes ?? 15) * 60);
    } finally {
      this.suspended = false;
      this.#pending = "";
      this.o.term.reset();
      this.draw();
    }
  }
}
