/**
 * What shared channels tell the runtime's cross-thread deadlock detector
 * (runtime deadlock/detector.ts): the keep-alive interval of waiting.ts is
 * gotrio's own handle, not a timer of the program's, so a thread whose only
 * ref'd timer is that interval can still be judged stuck.
 */
import { registerOwnTimers } from '@gotrio/runtime/lowlevel'
import { sharedKeepAliveHeld } from './waiting.ts'

registerOwnTimers(() => (sharedKeepAliveHeld() ? 1 : 0))
