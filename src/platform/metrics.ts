/**
 * A small in-process metrics registry with a Prometheus text exposition.
 * Bounded: label sets are declared by the code (never taken from requests), so the
 * number of series cannot be blown up by a client.
 */
type Labels = Record<string, string>;

function key(labels: Labels): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}="${labels[k]!.replace(/["\\\n]/g, '_')}"`)
    .join(',');
}

export class Counter {
  private values = new Map<string, number>();
  constructor(readonly name: string, readonly help: string) {}
  inc(labels: Labels = {}, by = 1): void {
    const k = key(labels);
    this.values.set(k, (this.values.get(k) ?? 0) + by);
  }
  get(labels: Labels = {}): number {
    return this.values.get(key(labels)) ?? 0;
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    for (const [k, v] of this.values) lines.push(`${this.name}${k ? `{${k}}` : ''} ${v}`);
    return lines.join('\n');
  }
}

/**
 * A value read when metrics are scraped. As a `counter`, it exposes a monotonic total the code
 * keeps in a plain number: the hottest paths count with `n++`, not with a labelled map lookup.
 */
export class Gauge {
  private values = new Map<string, () => number>();
  constructor(readonly name: string, readonly help: string, readonly kind: 'gauge' | 'counter' = 'gauge') {}
  /** The value is read when metrics are scraped: no bookkeeping on the hot path. */
  track(read: () => number, labels: Labels = {}): void {
    this.values.set(key(labels), read);
  }
  get(labels: Labels = {}): number {
    return this.values.get(key(labels))?.() ?? 0;
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} ${this.kind}`];
    for (const [k, read] of this.values) lines.push(`${this.name}${k ? `{${k}}` : ''} ${read()}`);
    return lines.join('\n');
  }
}

export class Histogram {
  private series = new Map<string, { counts: number[]; sum: number; count: number }>();
  constructor(readonly name: string, readonly help: string, readonly buckets: readonly number[]) {}
  observe(value: number, labels: Labels = {}): void {
    const k = key(labels);
    let s = this.series.get(k);
    if (!s) {
      s = { counts: this.buckets.map(() => 0), sum: 0, count: 0 };
      this.series.set(k, s);
    }
    s.sum += value;
    s.count += 1;
    for (let i = 0; i < this.buckets.length; i++) if (value <= this.buckets[i]!) s.counts[i]! += 1;
  }
  snapshot(labels: Labels = {}): { count: number; sum: number } {
    const s = this.series.get(key(labels));
    return { count: s?.count ?? 0, sum: s?.sum ?? 0 };
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const [k, s] of this.series) {
      const sep = k ? `${k},` : '';
      this.buckets.forEach((b, i) => lines.push(`${this.name}_bucket{${sep}le="${b}"} ${s.counts[i]}`));
      lines.push(`${this.name}_bucket{${sep}le="+Inf"} ${s.count}`);
      lines.push(`${this.name}_sum${k ? `{${k}}` : ''} ${s.sum}`);
      lines.push(`${this.name}_count${k ? `{${k}}` : ''} ${s.count}`);
    }
    return lines.join('\n');
  }
}

export class Metrics {
  private all = new Map<string, Counter | Gauge | Histogram>();
  counter(name: string, help: string): Counter {
    return this.register(name, () => new Counter(name, help)) as Counter;
  }
  gauge(name: string, help: string): Gauge {
    return this.register(name, () => new Gauge(name, help)) as Gauge;
  }
  /** A counter whose totals the code keeps itself and this reads at scrape time (see Gauge). */
  trackedCounter(name: string, help: string): Gauge {
    return this.register(name, () => new Gauge(name, help, 'counter')) as Gauge;
  }
  histogram(name: string, help: string, buckets: readonly number[]): Histogram {
    return this.register(name, () => new Histogram(name, help, buckets)) as Histogram;
  }
  render(): string {
    return [...this.all.values()].map((m) => m.render()).join('\n') + '\n';
  }
  private register(name: string, make: () => Counter | Gauge | Histogram): Counter | Gauge | Histogram {
    let m = this.all.get(name);
    if (!m) {
      m = make();
      this.all.set(name, m);
    }
    return m;
  }
}

export const LATENCY_BUCKETS_MS = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000] as const;
