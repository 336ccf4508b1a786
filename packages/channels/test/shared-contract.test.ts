/**
 * The channel contract (contract.ts: Trio's test_channel.py cases) run against
 * shared channels in one thread, every capacity the contract uses, Infinity
 * included (an unbounded shared channel: shared/overflow.ts).
 */
import { channelContract } from './contract.js'
import { openSharedChannel } from '../src/index.js'
import type { ReceiveChannel, SendChannel } from '../src/types.js'

channelContract('shared', <T>(n: number): [SendChannel<T>, ReceiveChannel<T>] => openSharedChannel<T>(n))
