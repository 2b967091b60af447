// A stream trigger: every item created in or deleted from the order feed, not updates.
export const config = {
  name: 'FeedLog',
  flows: ['orders'],
  triggers: [
    {
      type: 'stream',
      streamName: 'order-feed',
      condition: (change: { type: string }) => change.type !== 'update',
    },
  ],
} as const

export const handler = async (change: { type: string; id: string }, ctx: any) => {
  const log = (await ctx.state.get('report', 'feed')) ?? []
  await ctx.state.set('report', 'feed', [...log, `${change.type}:${change.id}`])
}
