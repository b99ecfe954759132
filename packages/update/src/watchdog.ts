/**
 * @module watchdog
 * The trial-boot watchdog the initramfs armed (`qx.watchdog=`): kept fed while the
 * health gate waits, disarmed with the magic close ('V') only when the slot is
 * marked good. Closing without 'V' (a crash) leaves it running, so a hung or dead
 * gate still ends in a reset.
 */
import { constants, promises as fs } from "node:fs";

export interface Watchdog {
  /** Resets the timer (opens the device on first use). */
  keepalive(): Promise<void>;
  /** Magic close: stops the timer. */
  disarm(): Promise<void>;
  /** Closes without disarming (the timer keeps running). */
  release(): Promise<void>;
}

/** `/dev/watchdog`; every method is a no-op when the device does not exist. */
export function deviceWatchdog(path = "/dev/watchdog"): Watchdog {
  let fh: fs.FileHandle | null = null;
  const open = async () => {
    if (fh) return fh;
    try {
      fh = await fs.open(path, constants.O_WRONLY);
    } catch {
      fh = null;
    }
    return fh;
  };
  return {
    async keepalive() {
      await (await open())?.write("\0").catch(() => undefined);
    },
    async disarm() {
      const h = await open();
      if (!h) return;
      await h.write("V").catch(() => undefined);
      await h.close().catch(() => undefined);
      fh = null;
    },
    async release() {
      await fh?.close().catch(() => undefined);
      fh = null;
    },
  };
}

/** A watchdog that records calls (tests). */
export function fakeWatchdog(): Watchdog & { events: string[] } {
  const events: string[] = [];
  return {
    events,
    keepalive: async () => {
      events.push("keepalive");
    },
    disarm: async () => {
      events.push("disarm");
    },
    release: async () => {
      events.push("release");
    },
  };
}
