import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { optional, password, required, vlan } from "./validate.ts";
import { caPin, clusterUrl, dnsList, gatewayFor, ipv4, ipv4Cidr, joinToken } from "./validate-config.ts";

const ok = (v: (t: string) => string | null, ...texts: string[]): void => {
  for (const t of texts) assert.equal(v(t), null, `should accept ${JSON.stringify(t)}`);
};
const bad = (v: (t: string) => string | null, ...texts: string[]): void => {
  for (const t of texts) assert.equal(typeof v(t), "string", `should reject ${JSON.stringify(t)}`);
};

describe("form validators", () => {
  it("IPv4 address", () => {
    ok(ipv4, "192.168.1.1", "10.0.0.254", "0.0.0.0");
    bad(ipv4, "192.168.1.300", "10.0.0", "10.0.0.1.2", "a.b.c.d", "10.0.0.1/24", "");
    assert.match(ipv4("192.168.1.300") ?? "", /IPv4 address/);
  });
  it("address in CIDR form", () => {
    ok(ipv4Cidr, "192.168.1.100/24", "10.0.0.5/8", "10.0.0.5/32");
    bad(ipv4Cidr, "10.0.0.300/24", "10.0.0.5", "10.0.0.5/33", "10.0.0.5/");
  });
  it("gateway inside the address's subnet", () => {
    const g = gatewayFor("10.0.0.5/24");
    ok(g, "10.0.0.1");
    assert.match(g("10.0.1.1") ?? "", /outside 10\.0\.0\.5\/24/);
    bad(g, "10.0.0.256");
    ok(gatewayFor("not yet typed"), "172.16.0.1");
  });
  it("VLAN tag 1..4094", () => {
    ok(vlan, "1", "100", "4094");
    bad(vlan, "0", "4095", "-1", "1.5", "abc", "12345");
  });
  it("up to three DNS servers, spaces or commas", () => {
    ok(dnsList, "8.8.8.8", "8.8.8.8 1.1.1.1", "8.8.8.8, 1.1.1.1,9.9.9.9");
    assert.match(dnsList("1.1.1.1 2.2.2.2 3.3.3.3 4.4.4.4") ?? "", /at most 3/);
    assert.match(dnsList("8.8.8.8 8.8.8") ?? "", /^8\.8\.8: /);
  });
  it("cluster URL: https only", () => {
    ok(clusterUrl, "https://control-plane.example.com:6443", "https://10.0.0.1");
    bad(clusterUrl, "http://cp.example.com", "cp.example.com", "ftp://x");
  });
  it("join token xxxx.xxxxx", () => {
    ok(joinToken, "abcd.efghijk", "a1b2.c3d4e5f6g7h8");
    bad(joinToken, "abcd", "abc.efghij", "ABCD.efghij", "abcd.efg", "abcd.efgh!j");
  });
  it("CA pin sha256:<64 hex>", () => {
    ok(caPin, `sha256:${"a".repeat(64)}`);
    bad(caPin, `sha256:${"a".repeat(63)}`, `sha256:${"A".repeat(64)}`, "a".repeat(64));
  });
  it("admin password: at least 10 characters", () => {
    ok(password, "0123456789", "correct horse battery");
    bad(password, "", "short", "x".repeat(257));
  });
  it("optional and required wrappers", () => {
    ok(optional(ipv4), "", "  ");
    bad(optional(ipv4), "1.2.3");
    assert.equal(required(ipv4)(""), "required");
    ok(required(ipv4), " 10.0.0.1 ");
  });
});
