import { ApiRouteConfig, ApiMiddleware, Handlers } from 'motia'
import { randomUUID } from 'crypto'
import { z } from 'zod'
import { priorityOf } from '~utils/priority'

const supportOnly: ApiMiddleware = async (req, ctx, next) => {
  if (req.headers['x-team'] !== 'support') {
    return { status: 403, body: { error: 'support team only' } }
  }
  return next()
}

export const config: ApiRouteConfig = {
  type: 'api',
  name: 'OpenTicket',
  method: 'POST',
  path: '/tickets',
  middleware: [supportOnly],
  bodySchema: z.object({
    reporter: z.string().email(),
    subject: z.string().min(3),
    details: z.string().min(10),
  }),
  emits: [{ topic: 'ticket.opened', label: 'Opened' }],
  flows: ['helpdesk'],
}

export const handler: Handlers['OpenTicket'] = async (req, { emit, logger }) => {
  const id = randomUUID()
  const priority = priorityOf(req.body.subject)
  await emit({ topic: 'ticket.opened', data: { id, ...req.body, priority } })
  logger.info('ticket opened', { id, priority })
  return { status: 201, body: { id, priority } }
}
