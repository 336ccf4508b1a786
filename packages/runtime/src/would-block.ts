/**
 * `WouldBlock`: a `*Nowait` call (`acquireNowait`, `sendNowait`,
 * `receiveNowait`, `selectNowait`) could not complete without waiting, and
 * changed nothing. One class for the whole library: defined here and
 * re-exported by `@gotrio/channels`, so `instanceof WouldBlock` works whichever
 * package the error came from (Trio's `trio.WouldBlock`).
 */
export class WouldBlock extends Error {
  override name = 'WouldBlock'
}
