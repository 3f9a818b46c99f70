/** Confirm/Cancel buttons shared by /deploy, /cleanup and /reset: invoker only, used once, they time out. */
import type { Pending } from './pending.js';
import type { ButtonContext, ButtonHandler } from './types.js';

/** The pending plan if this member may act on it; otherwise the refusal has been sent and undefined returned. */
export async function takeOwnPending<T>(cx: ButtonContext, id: string): Promise<Pending<T> | undefined> {
  const p = cx.bot.pending.get<T>(id);
  if (!p) {
    await cx.refuse(cx.m.confirmExpired);
    return undefined;
  }
  if (p.ownerId !== cx.interaction.user.id) {
    await cx.refuse(cx.m.deniedButton(p.ownerId));
    return undefined;
  }
  return cx.bot.pending.take<T>(id);
}

export const cancelButton: ButtonHandler = {
  access: 'teacher',
  async run(cx, id) {
    if (!(await takeOwnPending(cx, id))) return;
    await cx.interaction.update({ content: cx.m.cancelled, embeds: [], components: [] });
  },
};
