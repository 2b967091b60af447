// Figure 8, TypeScript with a type-only import from `motia` (dropped when transpiled):
// records when the handler starts, like bench-js.step.js.
import { EventConfig, Handlers } from 'motia'

export const config: EventConfig = {
  type: 'event',
  name: 'BenchTs',
  subscribes: ['bench.ts'],
  emits: [],
  flows: ['bench'],
}

export const handler: Handlers['BenchTs'] = async (input, { state }) => {
  const started: number[] = [
    Number(process.hrtime.bigint()) / 1e6,
    performance.timeOrigin + performance.now(),
  ]
  await state.set('bench-ts', String(input.seq), started)
}
