/** Types of fault-proxy.mjs (plain ESM so that the soak runs it without a build step). */

export declare function mulberry32(seed: number): () => number;
/** `SUREWIRE_SEED` when set (decimal or 0x-hex), else `fallback`. */
export declare function seedFromEnv(fallback: number): number;

export interface FaultStats {
  accepted: number;
  cut: number;
  blackholed: number;
  refused: number;
  delayed: number;
  upgradesBlocked: number;
}

export interface ChaosOptions {
  /** ms between two faults, drawn uniformly. @defaultValue [50, 1000] */
  interval?: [number, number];
  /** Relative weights of the faults. */
  weights?: Partial<Record<'cut' | 'cutAll' | 'blackhole' | 'delay' | 'refuse', number>>;
}

export interface FaultProxy {
  readonly port: number;
  readonly seed: number;
  readonly stats: FaultStats;
  readonly size: number;
  url(path?: string): string;
  journal(): string[];
  random(): number;
  cutOne(): void;
  cutAll(): void;
  blackholeOne(): void;
  blackholeAll(): void;
  deafenAll(): void;
  hear(): void;
  stallAll(): void;
  unstallAll(): void;
  refuse(ms: number): void;
  setDelay(ms: number): void;
  blockUpgrades(on: boolean): void;
  startChaos(options?: ChaosOptions): void;
  stopChaos(): void;
  close(): Promise<void>;
}

export declare function createFaultProxy(options: { targetPort: number; targetHost?: string; seed?: number }): Promise<FaultProxy>;
