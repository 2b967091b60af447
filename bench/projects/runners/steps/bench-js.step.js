// Figure 8, JavaScript (CommonJS): records when the handler starts, in milliseconds of
// CLOCK_MONOTONIC (process.hrtime, the clock of Python's time.monotonic) and of the wall clock.
const config = {
  type: 'event',
  name: 'BenchJs',
  subscribes: ['bench.js'],
  emits: [],
  flows: ['bench'],
}

const handler = async (input, { state }) => {
  const started = [Number(process.hrtime.bigint()) / 1e6, performance.timeOrigin + performance.now()]
  await state.set('bench-js', String(input.seq), started)
}

module.exports = { config, handler }
