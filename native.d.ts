/** Version of the loaded native addon; equals the package version. */
export declare function nativeVersion(): string;

/** One snapshot of everything qerrors measures. */
export interface MetricsSnapshot {
  timestamp: string;
  process: {
    uptimeSeconds: number;
    rssBytes: number;
    heapUsedBytes: number;
    heapTotalBytes: number;
    heapLimitBytes: number;
    externalBytes: number;
    arrayBuffersBytes: number;
  };
  eventLoop: { delayMeanMs: number; delayP50Ms: number; delayP99Ms: number; delayMaxMs: number };
  qerrors: {
    errorsHandled: number;
    latencyMeanMs: number;
    latencyP50Ms: number;
    latencyP99Ms: number;
    latencyMaxMs: number;
  };
  /** Stats of every tracked component, by name (e.g. `ai`, `breaker.payments`). */
  components: Record<string, Record<string, unknown>>;
}

/** Takes one snapshot of all native and JS stats. */
export declare function getMetrics(): MetricsSnapshot;
/** Renders a snapshot (default: a fresh one) in the Prometheus text format. */
export declare function toPrometheus(snapshot?: MetricsSnapshot): string;
/** An Express handler serving metrics: Prometheus text, or JSON for `Accept: application/json` / `?format=json`. */
export declare function metricsHandler(): (req: { query?: Record<string, unknown>; headers?: Record<string, unknown> }, res: { setHeader(name: string, value: string): unknown; end(body: string): unknown }) => void;
/** Adds a component to every snapshot; objects with `stats` (method or getter) are held weakly. Returns an untrack function. */
export declare function trackMetrics(name: string, source: (() => Record<string, unknown>) | { stats: Record<string, unknown> | (() => Record<string, unknown>) }): () => void;
