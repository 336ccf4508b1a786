/** Type-level tests of select's public types (vitest typecheck): API.md's signatures, and the union of mixed cases. */
import { describe, expectTypeOf, it } from 'vitest'
import { onReceive, onSend, openMemoryChannel, openSharedChannel, select, selectNowait, selectSync, type SelectCase } from '../src/index.ts'

describe('select types', () => {
  const [ns, nr] = openMemoryChannel<number>(1)
  const [, sr] = openSharedChannel<string>(1)

  it('onReceive: R defaults to the value type; then and onEnd set it', () => {
    expectTypeOf(onReceive(nr)).toEqualTypeOf<SelectCase<number>>()
    expectTypeOf(onReceive(nr, (v) => `${v}`)).toEqualTypeOf<SelectCase<string>>()
    expectTypeOf(
      onReceive(
        nr,
        async (v) => v > 0,
        () => false,
      ),
    ).toEqualTypeOf<SelectCase<boolean>>()
    expectTypeOf(onReceive(nr, undefined, () => 'end' as const)).toEqualTypeOf<SelectCase<number | 'end'>>()
  })

  it('onSend: R defaults to void; then sets it', () => {
    expectTypeOf(onSend(ns, 1)).toEqualTypeOf<SelectCase<void>>()
    expectTypeOf(onSend(ns, 1, () => 'sent' as const)).toEqualTypeOf<SelectCase<'sent'>>()
    // @ts-expect-error the value must be the channel's type
    onSend(ns, 'one')
  })

  it("select resolves with the union of its cases' results; an explicit R is API.md's form", () => {
    expectTypeOf(select(onReceive(nr), onReceive(sr))).toEqualTypeOf<Promise<number | string>>()
    expectTypeOf(
      select<number>(
        onReceive(nr),
        onReceive(nr, (v) => v * 2),
      ),
    ).toEqualTypeOf<Promise<number>>()
    expectTypeOf(
      selectNowait(
        onReceive(nr),
        onSend(ns, 2, () => null),
      ),
    ).toEqualTypeOf<number | null>()
    expectTypeOf(selectSync(onReceive(sr))).toEqualTypeOf<string>()
  })
})
