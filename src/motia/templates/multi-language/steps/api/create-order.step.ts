// TypeScript API step: starts the `orders` flow, which crosses four languages:
//   POST /orders (TypeScript) → order.created → NotifyWarehouse (JavaScript)
//   → order.sent → AuditTrail (Ruby); GET /orders/:id (Python) reads what they wrote.
// `motia` is imported for its types only: they come from types.d.ts, which `motia dev`
// (or `motia generate types`) writes. Node strips this file's types (22.13+), or esbuild
// transpiles it on an older Node.
import { ApiRouteConfig, Handlers } from 'motia'
import { z } from 'zod'

export const config: ApiRouteConfig = {
  type: 'api',
  name: 'CreateOrder',
  description: 'Accept an order',
  method: 'POST',
  path: '/orders',
  // zod schemas become JSON Schema when the file loads: an invalid body gets a 400 with
  // one entry per field, and this handler is not called.
  bodySchema: z.object({
    item: z.string().min(1),
    quantity: z.number().int().min(1),
  }),
  responseSchema: {
    201: z.object({ id: z.string(), status: z.string() }),
    500: z.object({ error: z.string() }),
  },
  emits: ['order.created'],
  flows: ['orders'],
}

// The handler type is looked up by the step's name. `emit` only accepts the topics in
// `emits`, with the data NotifyWarehouse (a JavaScript step) declares as its `input`.
export const handler: Handlers['CreateOrder'] = async (req, { emit, state, logger, traceId }) => {
  try {
    const id = crypto.randomUUID()
    const order = {
      id,
      item: req.body.item,
      quantity: req.body.quantity,
      status: 'created',
      traceId,
      createdAt: new Date().toISOString(),
    }
    await state.set('orders', id, order)
    await emit({ topic: 'order.created', data: { id, item: order.item, quantity: order.quantity } })
    logger.info('Order created', { id, item: order.item })
    return { status: 201, body: { id, status: order.status } }
  } catch (error) {
    logger.error('Could not create the order', { error: error.message })
    return { status: 500, body: { error: 'Could not create the order' } }
  }
}
