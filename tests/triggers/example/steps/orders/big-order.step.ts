// Orders of 100 or more are kept; smaller ones are not this step's business.
import { z } from 'zod'

const order = z.object({ id: z.string(), amount: z.number() })

export const config = {
  name: 'BigOrder',
  description: 'Keeps big orders',
  flows: ['orders'],
  triggers: [
    {
      type: 'queue',
      topic: 'order.placed',
      input: order,
      config: { type: 'fifo', maxRetries: 3 },
      condition: (input: { amount: number }) => input.amount >= 100,
    },
  ],
  enqueues: [],
} as const

export const handler = async (input: { id: string; amount: number }, ctx: any) => {
  await ctx.state.set('orders', input.id, { amount: input.amount, status: 'new' })
}
