/**
 * @module dialog
 * The confirmation every destructive or disruptive action asks for: a modal
 * `<dialog>` naming what will happen, a safe default (the cancel button has the focus
 * and Esc cancels), and the action's own words on the confirm button ("Delete VM",
 * "Roll back"), never "OK". An optional checkbox carries a choice that belongs to the
 * question (delete the VM's disks too). Text only, never HTML.
 *
 * @example
 * ```ts
 * const r = await confirmAction({ title: "Delete VM web01?", what: "Its definition is removed.", confirm: "Delete VM", option: "Also delete its disks" });
 * if (r.confirmed) remove(r.option);
 * ```
 */

export interface ConfirmSpec {
  readonly title: string;
  /** What will happen, in a sentence or two. */
  readonly what: string;
  /** The confirm button's words: the action ("Delete VM"). */
  readonly confirm: string;
  /** The cancel button's words (default "Cancel"). */
  readonly cancel?: string;
  /** A checkbox shown in the dialog, unticked. */
  readonly option?: string;
}

export interface ConfirmResult {
  readonly confirmed: boolean;
  /** The checkbox, when there is one. */
  readonly option: boolean;
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  e.append(...children);
  return e;
}

export function confirmAction(spec: ConfirmSpec): Promise<ConfirmResult> {
  return new Promise((resolve) => {
    const yes = el("button", { class: "danger", value: "yes", id: "confirm-yes" }, spec.confirm);
    const no = el("button", { class: "secondary", value: "no", id: "confirm-no" }, spec.cancel ?? "Cancel");
    const box = spec.option ? el("input", { type: "checkbox", id: "confirm-option" }) : null;
    const form = el("form", { method: "dialog" }, el("h2", { id: "confirm-title" }, spec.title), el("p", {}, spec.what));
    if (box && spec.option) form.append(el("label", { class: "check" }, box, ` ${spec.option}`));
    form.append(el("div", { class: "row" }, no, yes));
    const dialog = el("dialog", { class: "confirm", "aria-labelledby": "confirm-title" }, form);
    dialog.addEventListener("close", () => {
      resolve({ confirmed: dialog.returnValue === "yes", option: box?.checked ?? false });
      dialog.remove();
    });
    document.body.append(dialog);
    dialog.showModal();
    no.focus();
  });
}
