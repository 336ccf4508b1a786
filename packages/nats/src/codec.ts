/**
 * How channel values become message payloads. `'structured'` is Node's
 * structured-clone serialisation (v8.serialize: BigInt, Map, Date, typed
 * arrays...), `'json'` is JSON (readable by non-Node clients), or a user
 * codec registered by name in every process that attaches to the channel.
 */
import { deserialize, serialize } from 'node:v8'

export interface NatsCodec<T> {
  /** Identifies the codec across processes: attachers look it up with this name. */
  readonly name: string
  encode(value: T): Uint8Array
  decode(bytes: Uint8Array): T
}

const structured: NatsCodec<unknown> = {
  name: 'structured',
  encode: (v) => serialize(v),
  decode: (b) => deserialize(b),
}
const enc = new TextEncoder()
const dec = new TextDecoder()
const json: NatsCodec<unknown> = {
  name: 'json',
  encode: (v) => {
    const s = JSON.stringify(v)
    if (s === undefined)
      throw new TypeError(
        `the 'json' codec cannot encode ${typeof v} values: send JSON values, or open the channel with codec 'structured'`,
      )
    return enc.encode(s)
  },
  decode: (b) => JSON.parse(dec.decode(b)) as unknown,
}

const registry = new Map<string, NatsCodec<unknown>>([
  ['structured', structured],
  ['json', json],
])

/** Makes a user codec known in this process, so `attachNatsChannel` can use channels opened with it. */
export function registerNatsCodec<T>(codec: NatsCodec<T>): void {
  checkCodec(codec)
  if (codec.name === 'structured' || codec.name === 'json')
    throw new TypeError(`registerNatsCodec(codec): the name ${codec.name} is the built-in codec's; give yours another name`)
  registry.set(codec.name, codec as NatsCodec<unknown>)
}

function checkCodec(codec: unknown): asserts codec is NatsCodec<unknown> {
  const c = codec as Partial<NatsCodec<unknown>> | null
  if (
    typeof c !== 'object' ||
    c === null ||
    typeof c.name !== 'string' ||
    c.name === '' ||
    typeof c.encode !== 'function' ||
    typeof c.decode !== 'function'
  ) {
    throw new TypeError(`a NATS channel codec must be 'structured', 'json' or an object { name, encode(value): Uint8Array, decode(bytes) }`)
  }
}

/** The codec for an option value (opening a channel): registers a user codec. */
export function codecFromOption(option: unknown): NatsCodec<unknown> {
  if (option === undefined) return structured
  if (typeof option === 'string') {
    const c = registry.get(option)
    if (!c || (option !== 'structured' && option !== 'json'))
      throw new TypeError(
        `openNatsChannel(nc, name, { codec }): codec must be 'structured', 'json' or a NatsCodec object, got ${JSON.stringify(option)}`,
      )
    return c
  }
  checkCodec(option)
  registry.set(option.name, option)
  return option
}

/** The codec a channel was opened with, by name (attaching). */
export function codecByName(name: string, channel: string): NatsCodec<unknown> {
  const c = registry.get(name)
  if (!c)
    throw new Error(
      `NATS channel ${channel} was opened with codec ${JSON.stringify(name)}, unknown in this process: call registerNatsCodec(codec) before attachNatsChannel`,
    )
  return c
}
