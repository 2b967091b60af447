// TypeScript stream: the live status of each document, kept for an hour.
import { StreamConfig } from 'motia'
import { z } from 'zod'

export const config: StreamConfig = {
  name: 'document-status',
  schema: z.object({
    title: z.string(),
    category: z.string(),
    score: z.number(),
    status: z.enum(['approved', 'needs-review']),
  }),
  baseConfig: { storageType: 'default', ttl: 3600 },
}
