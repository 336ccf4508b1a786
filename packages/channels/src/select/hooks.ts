/**
 * The one hook memory-channel handles give `select` (select/select.ts, select/waiter.ts): a
 * method under this symbol returns the handle's channel engine, or undefined
 * once the handle is closed. A symbol, so it stays off the public surface.
 */
export const kSelectState: unique symbol = Symbol('gotrio.selectState')
