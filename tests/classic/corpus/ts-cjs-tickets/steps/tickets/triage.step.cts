import path from 'path'
import { EventConfig, Handlers } from 'motia'

export const config: EventConfig = {
  type: 'event',
  name: 'TriageTicket',
  subscribes: ['ticket.opened'],
  emits: [],
  input: {
    type: 'object',
    properties: { id: { type: 'string' }, priority: { type: 'string' } },
    required: ['id'],
  },
  flows: ['helpdesk'],
}

export const handler: Handlers['TriageTicket'] = async (input, { state, streams }) => {
  const queue = input.priority === 'high' ? 'urgent' : 'normal'
  const ticket = { ...input, status: 'triaged', queue, handledBy: path.basename(__filename) }
  await state.set('tickets', input.id, ticket)
  await streams.ticketBoard.set(queue, input.id, { id: input.id, subject: input.subject })
}
