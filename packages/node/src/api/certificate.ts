/**
 * @module api/certificate
 * `GET /api/v1/node/certificate`: the node certificate's fingerprint, validity and
 * SANs, so a client can compare it with what the console shows.
 */
import { z } from "zod";
import type { NodeCertificate } from "../services/certificate.ts";
import { type Api, route } from "./route.ts";

export function certificateRoutes(api: Api, cert: NodeCertificate): void {
  route(api, {
    method: "GET",
    url: "/api/v1/node/certificate",
    scope: "read",
    tag: "node",
    summary: "The node's TLS certificate: SHA-256 fingerprint, validity, names, PEM",
    response: z.object({ fingerprint: z.string(), notBefore: z.string(), notAfter: z.string(), subjectAltName: z.string(), pem: z.string() }),
    handler: async () => ({
      fingerprint: cert.fingerprint,
      notBefore: cert.notBefore,
      notAfter: cert.notAfter,
      subjectAltName: cert.subjectAltName,
      pem: cert.certPem,
    }),
  });
}
