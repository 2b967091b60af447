import type { EventConfig, Handlers } from 'motia'
import { z } from 'zod'

export const config: EventConfig = {
  type: 'event',
  name: 'FulfilOrder',
  subscribes: ['order.placed'],
  emits: [],
  input: z.object({
    id: z.string(),
    email: z.string(),
    items: z.array(z.object({ sku: z.string(), qty: z.number() })),
    total: z.number(),
    status: z.string(),
  }),
  flows: ['shop'],
}

export const handler: Handlers['FulfilOrder'] = async (input, { state, streams, logger }) => {
  const order = { ...input, status: 'fulfilled' }
  await state.set('orders', order.id, order)
  await streams.orderStatus.set(order.email, order.id, { orderId: order.id, status: order.status })
  logger.info('order fulfilled', { orderId: order.id })
}
