import { StreamConfig } from 'motia'
import { z } from 'zod'

export const config: StreamConfig = {
  name: 'ticketBoard',
  schema: z.object({ id: z.string(), subject: z.string() }),
  baseConfig: { storageType: 'default', ttl: 3600 },
}
