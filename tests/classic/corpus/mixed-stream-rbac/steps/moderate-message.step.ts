import { EventConfig, Handlers } from 'motia'
import { z } from 'zod'

export const config: EventConfig = {
  type: 'event',
  name: 'ModerateMessage',
  subscribes: ['message.posted'],
  emits: [],
  input: z.object({ threadId: z.string(), id: z.string(), text: z.string() }),
  flows: ['rbac-chat'],
}

export const handler: Handlers['ModerateMessage'] = async (input, { streams }) => {
  await streams.rbacMessage.set(input.threadId, input.id, {
    text: input.text.toLowerCase(),
    moderated: true,
  })
}
