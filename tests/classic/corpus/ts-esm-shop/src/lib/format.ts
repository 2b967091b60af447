interface StoredOrder {
  id: string
  email: string
  items: { sku: string; qty: number }[]
  total: number
  status: string
}

export function summarise(order: StoredOrder): string {
  const lines = order.items.map((item) => `${item.qty}x ${item.sku}`).join(', ')
  return `${lines} for ${order.email}: ${order.total.toFixed(2)}`
}
