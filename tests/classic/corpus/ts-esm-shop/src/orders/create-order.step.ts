import { ApiRouteConfig, Handlers } from 'motia'
import { nanoid } from 'nanoid'
import { z } from 'zod'
import { priceOf } from '@/lib/catalog'

const orderSchema = z.object({
  email: z.string().email(),
  website: z.string().url().optional(),
  items: z
    .array(z.object({ sku: z.string().min(3), qty: z.number().int().min(1) }))
    .min(1),
})

export const config: ApiRouteConfig = {
  type: 'api',
  name: 'CreateOrder',
  description: 'Price an order and hand it to fulfilment',
  method: 'POST',
  path: '/orders',
  bodySchema: orderSchema,
  responseSchema: {
    201: z.object({ id: z.string(), total: z.number(), status: z.string() }),
  },
  emits: [{ topic: 'order.placed', label: 'Order placed' }],
  flows: ['shop'],
}

export const handler: Handlers['CreateOrder'] = async (req, { emit, state, logger }) => {
  const body = orderSchema.parse(req.body)
  const total = body.items.reduce((sum, item) => sum + priceOf(item.sku) * item.qty, 0)
  const order = { id: nanoid(), email: body.email, items: body.items, total, status: 'placed' }
  await state.set('orders', order.id, order)
  await emit({ topic: 'order.placed', data: order })
  logger.info('order placed', { orderId: order.id, total })
  return { status: 201, body: { id: order.id, total, status: order.status } }
}
