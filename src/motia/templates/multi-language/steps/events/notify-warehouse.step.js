// JavaScript event step (CommonJS), run by the Node runner like the TypeScript step.
// Its `input` schema is checked before the handler runs, and it is what types.d.ts gives
// the TypeScript CreateOrder step as the data of `order.created`.
const config = {
  type: 'event',
  name: 'NotifyWarehouse',
  description: 'Send a new order to the warehouse',
  subscribes: ['order.created'],
  emits: ['order.sent'],
  input: {
    type: 'object',
    properties: {
      id: { type: 'string' },
      item: { type: 'string' },
      quantity: { type: 'integer', minimum: 1 },
    },
    required: ['id', 'item', 'quantity'],
  },
  flows: ['orders'],
}

const WAREHOUSE = 'main'

const handler = async (input, { emit, state, logger }) => {
  try {
    const order = await state.get('orders', input.id)
    const sentAt = new Date().toISOString()
    await state.set('orders', input.id, { ...order, status: 'sent', warehouse: WAREHOUSE, sentAt })
    await emit({
      topic: 'order.sent',
      data: { id: input.id, item: input.item, quantity: input.quantity, warehouse: WAREHOUSE },
    })
    logger.info('Order sent to the warehouse', { id: input.id, warehouse: WAREHOUSE })
  } catch (error) {
    logger.error('Could not notify the warehouse', { id: input.id, error: error.message })
    throw error // the queue retries the event
  }
}

module.exports = { config, handler }
