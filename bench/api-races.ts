/**
 * bench/api-races: the races of the hardening issue, counted over the real TLS listener
 * (a test node on loopback). Prints, for each, how many requests did what they said:
 *  - N parallel PUT /api/v1/node: statuses;
 *  - N parallel POST /api/v1/auth/tokens: statuses, and how many of the 201s work;
 *  - 10 trials of one DELETE /api/v1/auth/tokens/:id beside 3 creations: how often the
 *    revoked token still works;
 *  - 60 parallel wrong logins: how many passwords were checked (limit 5).
 *   npx tsx bench/api-races.ts [--n 50]
 */
import { parseArgs } from "node:util";
import { startTestNode } from "../packages/node/src/api/test-server.ts";

const { values } = parseArgs({ options: { n: { type: "string" } } });
const N = Number(values.n ?? 50);
const count = (xs: number[]) => {
  const m: Record<number, number> = {};
  for (const x of xs) m[x] = (m[x] ?? 0) + 1;
  return JSON.stringify(m);
};

const n = await startTestNode({ "quantix/node.yaml": 'node_id: "550e8400-e29b-41d4-a716-446655440000"\nhostname: "quantix-01"\n' });
try {
  const renames = await Promise.all(Array.from({ length: N }, (_, i) => n.call("PUT", "/api/v1/node", { token: n.admin, body: { hostname: `lab-${i}` } })));
  console.log(`${N} parallel PUT /api/v1/node: ${count(renames.map((r) => r.status))}`);

  const made = await Promise.all(Array.from({ length: N }, (_, i) => n.call("POST", "/api/v1/auth/tokens", { token: n.admin, body: { name: `t${i}`, scope: "read" } })));
  const ok = made.filter((r) => r.status === 201);
  const works = await Promise.all(ok.map((r) => n.call("GET", "/api/v1/auth/whoami", { token: r.json.token })));
  console.log(`${N} parallel POST /api/v1/auth/tokens: ${count(made.map((r) => r.status))}; of the 201s, ${works.filter((r) => r.status === 200).length} work`);
  for (const r of ok) await n.call("DELETE", `/api/v1/auth/tokens/${r.json.id}`, { token: n.admin });

  let alive = 0;
  for (let t = 0; t < 10; t++) {
    const v = await n.call("POST", "/api/v1/auth/tokens", { token: n.admin, body: { name: "victim", scope: "admin" } });
    const [del] = await Promise.all([
      n.call("DELETE", `/api/v1/auth/tokens/${v.json.id}`, { token: n.admin }),
      ...Array.from({ length: 3 }, (_, i) => n.call("POST", "/api/v1/auth/tokens", { token: n.admin, body: { name: `c${i}`, scope: "read" } })),
    ]);
    if (del?.status === 200 && (await n.call("GET", "/api/v1/auth/whoami", { token: v.json.token })).status === 200) alive++;
  }
  console.log(`revoke beside 3 creations, 10 trials: the revoked token still worked in ${alive}`);

  let checks = 0;
  const store = n.srv.auth.store;
  const verify = store.verifyAdmin.bind(store);
  store.verifyAdmin = (u: string, p: string) => {
    checks++;
    return verify(u, p);
  };
  const logins = await Promise.all(Array.from({ length: 60 }, (_, i) => n.call("POST", "/api/v1/auth/login", { body: { username: "admin", password: `wrong-${i}` } })));
  console.log(`60 parallel wrong logins: ${count(logins.map((r) => r.status))}; passwords checked: ${checks} (limit 5)`);
} finally {
  await n.close();
}
