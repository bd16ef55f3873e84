/**
 * The minimal Reflect metadata API that @peculiar/x509's dependency tsyringe demands at load
 * time ("tsyringe requires a reflect polyfill"). The project ships no polyfill package, so this
 * defines the five functions tsyringe and x509 use, over a WeakMap, only where Reflect lacks them.
 * Import it before @peculiar/x509 (ES modules evaluate imports in order).
 */
type Key = unknown;
type Target = object;
const store = new WeakMap<Target, Map<string | symbol | undefined, Map<Key, unknown>>>();

function own(target: Target, prop: string | symbol | undefined, create: boolean): Map<Key, unknown> | undefined {
  let byProp = store.get(target);
  if (byProp === undefined) {
    if (!create) return undefined;
    byProp = new Map();
    store.set(target, byProp);
  }
  let m = byProp.get(prop);
  if (m === undefined && create) {
    m = new Map();
    byProp.set(prop, m);
  }
  return m;
}

interface ReflectMetadata {
  defineMetadata(key: Key, value: unknown, target: Target, prop?: string | symbol): void;
  getOwnMetadata(key: Key, target: Target, prop?: string | symbol): unknown;
  getMetadata(key: Key, target: Target, prop?: string | symbol): unknown;
  hasMetadata(key: Key, target: Target, prop?: string | symbol): boolean;
  metadata(key: Key, value: unknown): (target: Target, prop?: string | symbol) => void;
}

const R = Reflect as unknown as Partial<ReflectMetadata>;
if (typeof R.getMetadata !== 'function') {
  const api: ReflectMetadata = {
    defineMetadata: (key, value, target, prop) => { own(target, prop, true)?.set(key, value); },
    getOwnMetadata: (key, target, prop) => own(target, prop, false)?.get(key),
    getMetadata: (key, target, prop) => {
      for (let t: Target | null = target; t !== null; t = Object.getPrototypeOf(t) as Target | null) {
        const m = own(t, prop, false);
        if (m?.has(key) === true) return m.get(key);
      }
      return undefined;
    },
    hasMetadata: (key, target, prop) => api.getMetadata(key, target, prop) !== undefined,
    metadata: (key, value) => (target, prop) => api.defineMetadata(key, value, target, prop),
  };
  Object.assign(Reflect, api);
}

export {};
