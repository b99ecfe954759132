import assert from "node:assert/strict";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { describe, it } from "node:test";
import { HttpError } from "../api/http-errors.ts";
import { makeRoot, removeRoot } from "../test-support.ts";
import { qxUpdateBackend, UPLOAD_DIR } from "./update-backend.ts";

const upload = (bytes: number) => Readable.from([Buffer.alloc(bytes, 1)]);

describe("update backend over qx-update's library", () => {
  it("refuses an upload while /data is not mounted (it would fill the RAM root)", async () => {
    const root = await makeRoot({ "proc/self/mountinfo": "22 1 0:21 / / rw - overlay overlay rw\n" });
    try {
      const b = qxUpdateBackend({ root, log: () => {} });
      await assert.rejects(b.install(upload(10), { sizeBytes: 10, signature: Buffer.from("sig"), sha256: null, allowDowngrade: false }), (e: unknown) => e instanceof HttpError && e.status === 409 && /not mounted/.test(e.message));
    } finally {
      await removeRoot(root);
    }
  });

  it("qx-update's refusals become 4xx (422 bad image, 409 not an installed node), and the upload is removed", async () => {
    const root = await makeRoot();
    try {
      const b = qxUpdateBackend({ root, log: () => {} });
      await assert.rejects(b.install(upload(64 * 1024), { sizeBytes: 65536, signature: Buffer.from("not a signature"), sha256: null, allowDowngrade: false }), (e: unknown) => {
        // On a build host there is no QX_SYSTEM_A: the library says "not installed" (409) before verifying.
        assert.ok(e instanceof HttpError && (e.status === 422 || (e.status === 409 && /QX_SYSTEM_A/.test(e.message))), String(e));
        return true;
      });
      assert.deepEqual(await readdir(join(root, "data")), [], `${UPLOAD_DIR} is cleaned up`);
      await assert.rejects(b.install(upload(1), { sizeBytes: 1, signature: null, sha256: null, allowDowngrade: false }), (e: unknown) => e instanceof HttpError && e.status === 400, "unsigned refused while allow_unsigned is off");
    } finally {
      await removeRoot(root);
    }
  });
});
