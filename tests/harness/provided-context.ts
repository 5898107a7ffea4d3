// Types the values tests/harness/global-setup.ts hands to every test file through vitest's
// provide/inject, so `inject('motoPrimary')` is typed. Import it for its side effect only.

/** Where a shared moto server listens, as seen by tests (serializable; no stop handle). */
export interface MotoEndpoint {
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  endpoint: string;
  /** The region clients of this server should use. */
  region: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    /** The primary-region moto server (eu-central-1), shared by the whole run. */
    motoPrimary: MotoEndpoint;
    /** The replica-region moto server (eu-west-1), shared by the whole run. */
    motoReplica: MotoEndpoint;
  }
}
