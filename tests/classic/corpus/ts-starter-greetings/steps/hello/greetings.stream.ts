import { StreamConfig } from 'motia'
import { z } from 'zod'

export const config: StreamConfig = {
  name: 'greetings',
  schema: z.object({ message: z.string(), timestamp: z.string() }),
  baseConfig: { storageType: 'default' },
}
