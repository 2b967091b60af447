// JavaScript event step. Needs the Node runner (not in this version yet).
const config = {
  type: 'event',
  name: 'NotifyWarehouse',
  description: 'Tell the warehouse about a new order (JavaScript)',
  subscribes: ['order.created'],
  emits: [],
  flows: ['orders'],
}

const handler = async (input, { logger }) => {
  logger.info('Warehouse notified', { orderId: input.id })
}

module.exports = { config, handler }
