/**
 * @module api/certificate
 * `GET /api/v1/node/certificate`: the node certificate's fingerprint, validity and
 * SANs, so a client can compare it with what the console shows.
 */
import type { FastifyInstance } from "fastify";
import type { NodeCertificate } from "../services/certificate.ts";

export function certificateRoutes(app: FastifyInstance, cert: NodeCertificate): void {
  app.get("/api/v1/node/certificate", async () => ({
    fingerprint: cert.fingerprint,
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
    subjectAltName: cert.subjectAltName,
    pem: cert.certPem,
  }));
}
