// A stream trigger: every item created in or deleted from the order feed, not updates.
import { stream, StreamChange } from 'motia'

export const config = {
  name: 'FeedLog',
  flows: ['orders'],
  triggers: [
    stream('order-feed', { condition: (change: StreamChange) => change.type !== 'update' }),
  ],
} as const

export const handler = async (change: StreamChange, ctx: any) => {
  const log = (await ctx.state.get('report', 'feed')) ?? []
  await ctx.state.set('report', 'feed', [...log, `${change.type}:${change.id}`])
}
