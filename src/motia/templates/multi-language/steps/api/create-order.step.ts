// TypeScript API step. Needs the Node runner (not in this version yet): `motia dev` lists this
// file as a warning and does not load it.
import { ApiRouteConfig, Handlers } from 'motia'
import { z } from 'zod'

export const config: ApiRouteConfig = {
  type: 'api',
  name: 'CreateOrder',
  description: 'Accept an order (TypeScript)',
  method: 'POST',
  path: '/orders',
  bodySchema: z.object({ item: z.string().min(1), quantity: z.number().int().min(1) }),
  responseSchema: { 201: z.object({ id: z.string() }) },
  emits: ['order.created'],
  flows: ['orders'],
}

export const handler: Handlers['CreateOrder'] = async (req, { emit, logger, traceId }) => {
  const id = crypto.randomUUID()
  await emit({ topic: 'order.created', data: { id, ...req.body } })
  logger.info('Order accepted', { id, traceId })
  return { status: 201, body: { id } }
}
