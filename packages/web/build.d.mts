/** The web UI's files, built in memory: URL path → content. */
export function buildWeb(): Promise<Record<string, { type: string; body: string }>>;
