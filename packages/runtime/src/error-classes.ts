/**
 * Error classes by name, so that an error thrown on one thread arrives on
 * another as an instance of its class (transfer.ts rebuilds errors from
 * records). Structured clone keeps only a few built-in classes and drops
 * every subclass to `Error`; gotrio sends errors as records (name, message,
 * stack, cause, errors, own fields) and looks the name up here.
 *
 * Registered: the built-in classes (`Error`, `TypeError`, `RangeError`,
 * `SyntaxError`, `EvalError`, `URIError`, `ReferenceError`,
 * `AggregateError`), the runtime's errors (errors.ts), and whatever other
 * packages register at load (`@gotrio/channels` registers its own: channels
 * cannot be imported by the runtime, DESIGN.md). A name that is not
 * registered arrives as an `Error` with that `name`.
 *
 * An instance is rebuilt without running the class's constructor (its
 * parameters are the class's business): it is made by `Error` (or
 * `AggregateError` for groups) with the class's prototype, as
 * `Reflect.construct` allows, so it is a real error object (stack, cause)
 * and `instanceof` holds. Own fields come back with the record.
 */

/** An Error class: anything whose instances are errors. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type ErrorClass = abstract new (...args: any[]) => Error

const classes = new Map<string, ErrorClass>()

/**
 * Registers `ctor` under `name` (the `name` its instances carry), so errors
 * of that class keep their class when they cross threads. Register at module
 * load, in every thread (a module imported by the task modules does that).
 * Registering another class under a taken name is an `Error`: names decide.
 */
export function registerErrorClass(name: string, ctor: ErrorClass): void {
  if (typeof name !== 'string' || name === '') throw new TypeError('registerErrorClass(name, ctor): name must be a non-empty string')
  if (typeof ctor !== 'function' || !(ctor.prototype instanceof Error || ctor === Error)) {
    throw new TypeError(`registerErrorClass(${name}, ctor): ctor must be a class that extends Error`)
  }
  const had = classes.get(name)
  if (had !== undefined && had !== ctor) {
    throw new Error(
      `registerErrorClass: the name '${name}' is already registered for another class; errors are matched by name across threads, so give the class a distinct name`,
    )
  }
  classes.set(name, ctor)
}

/** The class registered under `name`, if any. */
export function errorClass(name: string): ErrorClass | undefined {
  return classes.get(name)
}

/** Rebuilds an error of the class registered under `name` (else a plain Error/AggregateError), without running its constructor. */
export function makeError(name: string, message: string, options: ErrorOptions | undefined, errors: unknown[] | undefined): Error {
  const ctor = classes.get(name)
  const isGroup = errors !== undefined
  const base = isGroup ? AggregateError : Error
  const args = isGroup ? [errors, message, options] : [message, options]
  if (ctor === undefined) return Reflect.construct(base, args) as Error
  // A group class must build on AggregateError (for `errors`); any other on Error.
  const usable = isGroup ? ctor.prototype instanceof AggregateError || ctor === AggregateError : true
  return Reflect.construct(base, args, usable ? (ctor as unknown as new () => Error) : base) as Error
}

for (const c of [Error, TypeError, RangeError, SyntaxError, EvalError, URIError, ReferenceError, AggregateError]) {
  registerErrorClass(c.name, c)
}
