import { EventConfig, Handlers } from 'motia'
import { z } from 'zod'
import { greetingFor } from './lib/greeting'

export const config: EventConfig = {
  type: 'event',
  name: 'ProcessGreeting',
  subscribes: ['greeting.requested'],
  emits: [],
  input: z.object({ name: z.string() }),
  flows: ['hello'],
}

export const handler: Handlers['ProcessGreeting'] = async (input, { state, streams }) => {
  const greeting = { message: greetingFor(input.name), timestamp: new Date().toISOString() }
  await state.set('greetings', input.name, greeting)
  await streams.greetings.set('all', input.name, greeting)
}
