/**
 * `PUT /api/v1/update/image` with qx-update's real library behind it (no stub): the
 * HTTPS route, the streamed upload, the signature header, the verifier and the slot
 * writer together, over a fake node (slots in an image file, the ESP a directory).
 */
import assert from "node:assert/strict";
import { promises as fs } from "node:fs";
import { after, before, describe, it } from "node:test";
import { readBootEnv } from "@quantix/core";
import { type FakeNode, makeFakeNode, makeImage, makeSigningKey, type SigningKey, signFile, tempDir } from "@quantix/update/test-support";
import { CHROMIUM, hasChromium, launchChromium } from "@quantix/web/test-browser";
import { qxUpdateBackend } from "../services/update-backend.ts";
import { loadWebAssets } from "../web-assets.ts";
import { makeRoot, removeRoot } from "../test-support.ts";
import { startTestNode, type TestNode } from "./test-server.ts";

describe("update upload through the API, into qx-update", { timeout: 120_000 }, () => {
  let dir = "";
  let key: SigningKey;
  let fake: FakeNode;
  let n: TestNode;
  let next = "";
  let old = "";
  let uploads = "";
  before(async () => {
    dir = await tempDir("api-update");
    key = await makeSigningKey("api");
    fake = await makeFakeNode("1.0.0", [key]);
    next = await makeImage(dir, { version: "1.1.0" });
    old = await makeImage(dir, { version: "0.9.0" });
    for (const f of [next, old]) await signFile(f, key);
    // The upload lands under a root whose /data is mounted; the slots and the ESP are the fake node's.
    uploads = await makeRoot();
    n = await startTestNode({}, { update: qxUpdateBackend({ root: uploads, log: () => {}, context: () => fake.ctx() }), web: await loadWebAssets() });
  });
  after(async () => {
    await n?.close();
    if (uploads) await removeRoot(uploads);
    for (const d of [dir, fake?.dir, key?.home]) if (d) await fs.rm(d, { recursive: true, force: true });
  });

  const put = async (file: string, o: { sig?: string | null; sha256?: string; query?: string } = {}) => {
    const headers: Record<string, string> = { "content-type": "application/octet-stream" };
    const sig = o.sig === undefined ? (await fs.readFile(`${file}.sig`)).toString("base64") : o.sig;
    if (sig !== null) headers["x-qx-image-signature"] = sig;
    if (o.sha256) headers["x-qx-image-sha256"] = o.sha256;
    return n.call("PUT", `/api/v1/update/image${o.query ?? ""}`, { token: n.admin, raw: await fs.readFile(file), headers });
  };

  it("a signed image with only its signature (no .sha256) installs into the inactive slot", async () => {
    const r = await put(next);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.slots.find((s: { name: string }) => s.name === "B").state, "trying");
    assert.equal(r.json.slots.find((s: { name: string }) => s.name === "B").version, "1.1.0");
    const env = await readBootEnv(fake.esp);
    assert.equal(env.state.primary, "B");
  });

  it("a SHA-256 header is checked: the right one installs, a wrong one is 422 and names it", async () => {
    const right = (await fs.readFile(`${next}.sha256`, "utf8")).slice(0, 64);
    assert.equal((await put(next, { sha256: right.toUpperCase() })).status, 200);
    const wrong = await put(next, { sha256: "f".repeat(64) });
    assert.equal(wrong.status, 422, wrong.text);
    assert.match(wrong.json.message, /SHA-256 mismatch: .*the SHA-256 given says ffff/);
    const malformed = await put(next, { sha256: "not-hex" });
    assert.equal(malformed.status, 400);
    assert.equal(malformed.json.field, "headers.x-qx-image-sha256");
  });

  it("without a signature: 400 saying what to send; with another image's signature: 422", async () => {
    const none = await put(next, { sig: null });
    assert.equal(none.status, 400);
    assert.match(none.json.message, /detached signature/);
    const other = await put(next, { sig: (await fs.readFile(`${old}.sig`)).toString("base64") });
    assert.equal(other.status, 422);
    assert.match(other.json.message, /signature/);
  });

  it("an older signed image: 422 downgrade with the way out; accepted with ?allow_downgrade=true", async () => {
    const refused = await put(old);
    assert.equal(refused.status, 422, refused.text);
    assert.match(refused.json.message, /0\.9\.0 is older than the running 1\.0\.0: downgrades are refused.*allow_downgrade=true/);
    const bad = await put(old, { query: "?allow_downgrade=maybe" });
    assert.equal(bad.status, 400);
    const ok = await put(old, { query: "?allow_downgrade=true" });
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.json.slots.find((s: { name: string }) => s.name === "B").version, "0.9.0");
  });

  it("the web UI's upload form sends the image with its signature (and the downgrade choice) and says it is installed", async (t) => {
    if (!hasChromium()) return t.skip(`${CHROMIUM} is not installed`);
    const b = await launchChromium();
    try {
      const page = await b.ctx.newPage();
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(e.message));
      await page.goto(`https://127.0.0.1:${n.srv.port}/`);
      await page.fill("#login-password", n.password);
      await page.click("#login-submit");
      await page.click('nav button[data-view="Update"]');
      await page.setInputFiles("#update-file", next);
      await page.click("#update-upload");
      await page.getByRole("alert").getByText(/signature/).waitFor();
      await page.setInputFiles("#update-sig", `${next}.sig`);
      await page.setInputFiles("#update-sha256", `${next}.sha256`);
      await page.click("#update-upload");
      await page.getByText("Image installed to the inactive slot").waitFor({ timeout: 30_000 });
      // An older image: refused with the server's words, then installed with the box ticked (after a confirmation).
      await page.setInputFiles("#update-file", old);
      await page.setInputFiles("#update-sig", `${old}.sig`);
      await page.setInputFiles("#update-sha256", []);
      await page.click("#update-upload");
      await page.getByRole("alert").getByText(/downgrades are refused/).waitFor({ timeout: 30_000 });
      await page.check("#update-downgrade");
      await page.click("#update-upload");
      await page.locator("dialog.confirm").getByText("may be older than the running version").waitFor();
      await page.click("#confirm-yes");
      await page.getByText("Image installed to the inactive slot").waitFor({ timeout: 30_000 });
      assert.equal((await readBootEnv(fake.esp)).state.slots.B.version, "0.9.0");
      assert.deepEqual(errors, []);
    } finally {
      await b.close();
    }
  });
});
