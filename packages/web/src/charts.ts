/**
 * @module charts
 * The dashboard's live charts (uPlot, MIT, ~20 KiB gzipped): host CPU, memory, `/data`
 * used and network throughput from `GET /api/v1/metrics`, over the last hour (a point
 * each 10 s) or the last 24 hours (5-minute averages). The hour view asks only for the
 * points after its newest one every 10 s and appends them; the charts follow the box's
 * width. A failed read says so above the charts and keeps what was drawn.
 */
import uPlot from "uplot";
import { html, render, unmount, useEffect, useRef, useState } from "./ui.ts";

type Json = Record<string, unknown>;

export interface ChartsDeps {
  api<T = Json>(method: string, path: string, body?: unknown): Promise<T>;
  errText(e: unknown): string;
  bytes(n: number): string;
  signal: AbortSignal;
}

export interface MetricPoint {
  t: number;
  cpu: number;
  memUsedBytes: number;
  memTotalBytes: number;
  dataUsedBytes: number | null;
  dataTotalBytes: number | null;
  netRxBytesPerSec: number;
  netTxBytesPerSec: number;
}
type Range = "1h" | "24h";

/** A point of any series: a time in ms since the epoch, and figures. */
export interface Timed {
  t: number;
}
interface Series<P extends Timed> {
  label: string;
  value: (p: P) => number | null;
  color: string;
}
export interface ChartDef<P extends Timed = MetricPoint> {
  id: string;
  title: string;
  series: Series<P>[];
  /** Axis and legend text of a value. */
  fmt: (v: number) => string;
  /** The current figure under the title. */
  now: (p: P) => string;
  /** The y range: fixed, or from 0 to a little above the highest value (default). */
  yMax?: number;
}

/** The four charts, as figures of a point (exported for tests). */
export function chartDefs(bytes: (n: number) => string): ChartDef[] {
  const pct = (v: number) => `${v.toFixed(0)} %`;
  return [
    { id: "cpu", title: "CPU", series: [{ label: "busy", value: (p) => p.cpu * 100, color: "#2f7de1" }], fmt: pct, now: (p) => `${(p.cpu * 100).toFixed(1)} % busy`, yMax: 100 },
    {
      id: "memory",
      title: "Memory",
      series: [{ label: "used", value: (p) => p.memUsedBytes, color: "#8a4fd6" }],
      fmt: bytes,
      now: (p) => `${bytes(p.memUsedBytes)} used of ${bytes(p.memTotalBytes)}`,
    },
    {
      id: "data",
      title: "/data",
      series: [{ label: "used", value: (p) => p.dataUsedBytes, color: "#c7812b" }],
      fmt: bytes,
      now: (p) => (p.dataTotalBytes === null ? "not mounted" : `${bytes(p.dataUsedBytes ?? 0)} used of ${bytes(p.dataTotalBytes)}`),
    },
    {
      id: "network",
      title: "Network",
      series: [
        { label: "in", value: (p) => p.netRxBytesPerSec, color: "#1f9d61" },
        { label: "out", value: (p) => p.netTxBytesPerSec, color: "#d6453d" },
      ],
      fmt: (v) => `${bytes(v)}/s`,
      now: (p) => `in ${bytes(p.netRxBytesPerSec)}/s, out ${bytes(p.netTxBytesPerSec)}/s`,
    },
  ];
}

/** uPlot's columns for `def` from `points` (time in seconds). */
export function columns<P extends Timed>(def: ChartDef<P>, points: P[]): uPlot.AlignedData {
  return [points.map((p) => p.t / 1000), ...def.series.map((s) => points.map(s.value))];
}

/** One chart of `points` (uPlot), following its box's width. */
export function Chart<P extends Timed>({ def, points }: { def: ChartDef<P>; points: P[] }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const css = getComputedStyle(document.documentElement);
    const fg = css.getPropertyValue("--muted").trim() || "#667";
    const line = css.getPropertyValue("--line").trim() || "#ddd";
    const axis = { stroke: fg, grid: { stroke: line, width: 1 }, ticks: { stroke: line, width: 1 } };
    plot.current = new uPlot(
      {
        width: Math.max(200, el.clientWidth),
        height: 160,
        legend: { show: def.series.length > 1 },
        cursor: { drag: { x: false, y: false } },
        scales: { y: { range: def.yMax !== undefined ? [0, def.yMax] : (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] } },
        axes: [axis, { ...axis, size: 84, values: (_u, vals) => vals.map((v) => def.fmt(v)) }],
        series: [{}, ...def.series.map((s) => ({ label: s.label, stroke: s.color, width: 1.5, fill: `${s.color}22`, value: (_u: uPlot, v: number | null) => (v === null ? "—" : def.fmt(v)) }))],
      },
      columns(def, points),
      el,
    );
    const ro = new ResizeObserver(() => plot.current?.setSize({ width: Math.max(200, el.clientWidth), height: 160 }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
  }, [def.id]);
  useEffect(() => plot.current?.setData(columns(def, points)), [points]);
  const last = points[points.length - 1];
  return html`
    <div class="chart" id=${`chart-${def.id}`} data-points=${points.length}>
      <div class="row spread"><strong>${def.title}</strong><span class="muted chart-now">${last ? def.now(last) : "no figures yet"}</span></div>
      <div class="chart-plot" ref=${box}></div>
    </div>`;
}

function Charts({ d }: { d: ChartsDeps }) {
  const [range, setRange] = useState<Range>("1h");
  const [points, setPoints] = useState<MetricPoint[]>([]);
  const [error, setError] = useState("");
  const defs = useRef(chartDefs(d.bytes));
  useEffect(() => {
    let gone = false;
    let newest = 0;
    setPoints([]);
    const read = async () => {
      try {
        const q = range === "1h" && newest ? `&since=${newest}` : "";
        const r = await d.api<{ points: MetricPoint[] }>("GET", `/api/v1/metrics?range=${range}${q}`);
        if (gone) return;
        setError("");
        if (range === "1h" && newest) {
          if (r.points.length) setPoints((o) => [...o, ...r.points].slice(-360));
        } else setPoints(r.points);
        newest = r.points[r.points.length - 1]?.t ?? newest;
      } catch (e) {
        if (!gone) setError(`The metrics could not be read: ${d.errText(e)}`);
      }
    };
    void read();
    const timer = window.setInterval(read, range === "1h" ? 10_000 : 300_000);
    return () => {
      gone = true;
      window.clearInterval(timer);
    };
  }, [range]);
  return html`
    <section class="card" id="charts" data-range=${range}>
      <div class="row spread">
        <h2>Performance</h2>
        <div class="segmented" role="group" aria-label="Time range">
          ${(["1h", "24h"] as const).map((r) => html`<button class=${r === range ? "primary" : "secondary"} aria-pressed=${r === range} data-range=${r} onClick=${() => setRange(r)}>${r === "1h" ? "Last hour" : "Last 24 hours"}</button>`)}
        </div>
      </div>
      ${error && html`<div class="msg error" role="alert">${error}</div>`}
      ${!error && points.length === 0 && html`<p class="muted">Collecting: the first figures come within ${range === "1h" ? "10 seconds" : "5 minutes"} of the node's start.</p>`}
      <div class="charts">${defs.current.map((def) => html`<${Chart} key=${def.id} def=${def} points=${points} />`)}</div>
    </section>`;
}

/** The dashboard's performance card, mounted in a new element; it unmounts when `d.signal` aborts. */
export function chartsPanel(d: ChartsDeps): HTMLElement {
  const el = document.createElement("div");
  render(html`<${Charts} d=${d} />`, el);
  d.signal.addEventListener("abort", () => unmount(el), { once: true });
  return el;
}
