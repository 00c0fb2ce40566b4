/**
 * A first-in first-out queue that reuses its slots: `array.shift()` moves
 * every item, and `array.length = 0` followed by `push` reallocates; on a
 * stream of a few hundred thousand events either shows up as GC time.
 */
export class Fifo<T> {
  #items: (T | undefined)[] = [];
  #head = 0;
  #tail = 0;

  get size(): number {
    return this.#tail - this.#head;
  }

  push(item: T): void {
    this.#items[this.#tail++] = item;
  }

  /** The item pushed last, if the queue is not empty. */
  last(): T | undefined {
    return this.#head === this.#tail ? undefined : this.#items[this.#tail - 1];
  }

  shift(): T | undefined {
    if (this.#head === this.#tail) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head++] = undefined;
    if (this.#head === this.#tail) this.#head = this.#tail = 0;
    return item;
  }

  /** Drop every item and the storage. */
  clear(): void {
    this.#items = [];
    this.#head = this.#tail = 0;
  }
}
