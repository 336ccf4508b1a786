/**
 * The channel contract (contract.ts: Trio's test_channel.py cases) run against
 * shared channels in one thread. Shared channels refuse Infinity (a fixed ring
 * in shared memory, see README); the contract's Infinity cases run with a ring
 * larger than anything they send.
 */
import { channelContract } from './contract.js'
import { openSharedChannel } from '../src/index.js'

channelContract('shared', <T>(n: number) => openSharedChannel<T>(n === Infinity ? 1 << 16 : n))
