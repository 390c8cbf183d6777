/**
 * Helpers that give V8 the object shapes detection's code should meet from the start (see settleShape): a shape that
 * changes under optimized code throws the code away, and every replay thread compiles it again.
 */

/**
 * Settles the shape V8 gives a class's objects before any code that reads them is optimized. V8 keeps a field
 * "const" until an object's second store to it of another value, and its type as narrow as what was stored so far
 * (objects of one map, small integers); the first object stored otherwise changes the class's map, and every optimized
 * function that checked the map is thrown away and compiled again. On the bench capture the first decode error
 * (frame 3,649) did that to nine functions of detection in each replay thread, the first IPv6 extension header
 * (frame 3,353) to those reading IPv6 headers. `stores` gives one object each field a second time, of the most general
 * kinds the class holds (any object, a double), at load. The object is kept: V8 holds a map's transitions weakly, and
 * once no object has the settled map a collection forgets it, and the next object is built on the narrow one again.
 */
export function settleShape<T>(o: T, stores: (o: T) => void): void {
  stores(o);
  SETTLED.push(o);
}

/** The objects that keep their classes' settled maps alive (settleShape). */
const SETTLED: unknown[] = [];

/** Two objects of different maps: a field given both holds any object. */
const ANY_OBJECTS = [{}, []];

/** Gives each of `fields` of `o` two objects of different maps: the field then holds any object (settleShape). */
export function anyObjectFields<T>(o: T, fields: readonly (keyof T)[]): void {
  for (const v of ANY_OBJECTS) for (const f of fields) (o as Record<keyof T, unknown>)[f] = v;
}

/**
 * An empty list V8 already holds as a list of objects: an empty literal starts as a list of small integers, and its
 * first object changes its map, under code optimized before a rule first matched.
 */
export function objectList<T>(): T[] {
  const list = [undefined] as T[];
  list.length = 0;
  return list;
}

/**
 * Cuts a reused list to its first `n` items by pop, keeping its backing store. A length set (`list.length = 0`) is a
 * call into V8's runtime, and one to 0 also drops the store, so that the next push allocates a new one: detection's
 * scratch lists did that for every packet with a flowbits rule among its candidates (about 170 of a shard's 2,100
 * bytes a packet, the bench capture's DCE/RPC flow meeting ET 2017935 on `|00 00|`).
 */
export function truncateList(list: unknown[], n = 0): void {
  while (list.length > n) list.pop();
}
