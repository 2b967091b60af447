import { summarise } from '../lib/format.ts'

export const config = {
  type: 'api',
  name: 'GetOrder',
  method: 'GET',
  path: '/orders/:id',
  emits: [],
  flows: ['shop'],
}

export const handler = async (req, { state }) => {
  const order = await state.get('orders', req.pathParams.id)
  if (!order) return { status: 404, body: { error: 'order not found' } }
  return { status: 200, body: { id: order.id, summary: summarise(order), status: order.status } }
}
