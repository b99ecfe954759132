#!/usr/bin/env node
// Launcher for a checkout (`npx qx-update verify FILE` after `npm ci`): runs the
// TypeScript CLI through tsx. On a node, /usr/local/bin/qx-update is the esbuild
// bundle made by scripts/bundle.mjs instead.
import { register } from "tsx/esm/api";

register();
await import("../src/cli/qx-update.ts");
