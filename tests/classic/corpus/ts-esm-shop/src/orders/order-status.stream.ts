import { StreamConfig } from 'motia'
import { z } from 'zod'

export const config: StreamConfig = {
  name: 'orderStatus',
  schema: z.object({ orderId: z.string(), status: z.string() }),
  baseConfig: { storageType: 'default' },
}
