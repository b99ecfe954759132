/**
 * @module vnc
 * The VNC viewer of the web UI: noVNC's RFB client on the API's VNC WebSocket
 * (`/api/v1/vms/:name/vnc`, which carries the VM's RFB stream). It is built into its
 * own script, `/vnc.js` (about 50 KiB gzipped), which the VMs page loads only when a
 * display is opened; this module puts {@link QxVnc} on `window.qxVnc` for it.
 *
 * @example
 * ```ts
 * const v = window.qxVnc.open(div, "wss://node/api/v1/vms/web-1/vnc", ["qx-console", "qx-auth.TOKEN"], (s, t) => log(s, t));
 * v.ctrlAltDel();
 * ```
 */
import RFB from "@novnc/novnc/core/rfb.js";

export type VncStatus = "connected" | "disconnected" | "error";

export interface VncViewer {
  disconnect(): void;
  ctrlAltDel(): void;
}

export interface QxVnc {
  /**
   * Shows the display behind `url` in `target` (scaled to fit). `protocols` are the
   * WebSocket subprotocols: the browser's way to pass the session token.
   */
  open(target: HTMLElement, url: string, protocols: string[], on: (status: VncStatus, text: string) => void): VncViewer;
}

const qxVnc: QxVnc = {
  open(target, url, protocols, on) {
    const rfb = new RFB(target, url, { shared: true, wsProtocols: protocols });
    rfb.scaleViewport = true;
    rfb.resizeSession = false;
    rfb.background = "#000";
    rfb.addEventListener("connect", () => {
      on("connected", "connected (click the screen to type)");
      rfb.focus();
    });
    rfb.addEventListener("disconnect", (e) => {
      const clean = (e as CustomEvent<{ clean?: boolean }>).detail?.clean;
      on(clean ? "disconnected" : "error", clean ? "display closed" : "the display connection failed or was lost");
    });
    rfb.addEventListener("securityfailure", (e) => {
      on("error", `VNC security failure: ${String((e as CustomEvent<{ reason?: string }>).detail?.reason ?? "refused")}`);
    });
    rfb.addEventListener("credentialsrequired", () => {
      on("error", "the VM's VNC server asks for a password (not a display made by qx-node)");
      rfb.disconnect();
    });
    return {
      disconnect: () => rfb.disconnect(),
      ctrlAltDel: () => rfb.sendCtrlAltDel(),
    };
  },
};

(window as unknown as { qxVnc: QxVnc }).qxVnc = qxVnc;
