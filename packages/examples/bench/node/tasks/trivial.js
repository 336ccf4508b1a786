// The trivial task that worker_task_roundtrip sends to a pool, shared by the gotrio-pool and
// piscina-raw variants so both load exactly the same module. Plain JavaScript: no loader cost.
export function trivial(i) {
  return i + 1
}
export default trivial
