/**
 * Every user-facing string of the bot, in English and Russian. `ru` is typed as `Messages`, so a string missing
 * in one language is a compile error. The language follows the member's Discord locale unless bot.yml fixes one.
 * Errors, refusals and warnings raised by the engine render from the engine catalogue (src/i18n) instead.
 */
import { formatEstimate } from '../core/estimate.js';
import { count, EN, estimateText, RU, type Lang } from '../i18n/index.js';

export type { Lang } from '../i18n/index.js';

/** `5 stands` / `5 стендов`: plurals by Intl.PluralRules (src/i18n/plural.ts). */
const en_ = (n: number, w: keyof typeof EN): string => count('en', n, EN[w]);
const ru_ = (n: number, w: keyof typeof RU): string => count('ru', n, RU[w]);

const ruDuration = (ms: number): string => estimateText('ru', ms);

const en = {
  lang: 'en' as Lang,
  accessNames: { admin: 'admin', teacher: 'teacher', student: 'student' } as Record<string, string>,
  denied: (need: string) => `Access denied: this needs the ${need} role.`,
  deniedButton: (owner: string) => `Only <@${owner}> can press this button.`,
  internalError: (ref: string) => `Internal error, reference ${ref}. The bot's log has the details.`,
  proxmoxError: (msg: string) => `Proxmox refused the request: ${msg}`,
  unknownCommand: 'This command is not known to this bot (commands may need to be registered again).',
  confirmExpired: 'This confirmation has expired or was already used. Run the command again.',
  confirm: 'Confirm',
  cancel: 'Cancel',
  cancelled: 'Cancelled. Nothing was changed.',
  timedOut: 'No confirmation in time. Nothing was changed.',
  prev: '◀',
  next: '▶',
  groupBusy: (group: string, holder: string) => `Group ${group} is busy: ${holder} is running a job on it.`,
  queued: (ahead: number) => `Queued: ${en_(ahead, 'job')} ahead on this cluster.`,
  // attachments
  attachmentHost: (host: string) => `The attachment comes from ${host}, which is not an allowed attachment host.`,
  attachmentTooBig: (size: number, max: number) => `The attachment is ${en_(size, 'byte')}; the limit is ${en_(max, 'byte')}.`,
  attachmentType: (name: string) => `${name}: unsupported file type; send a .txt, .csv, .yml or .yaml user list.`,
  attachmentFetch: (status: string) => `Could not download the attachment (${status}).`,
  listErrors: (name: string, n: number) => `${name}: ${en_(n, 'problem')}; nothing was created.`,
  // deploy
  planTitle: (group: string, profile: string) => `Deploy plan: ${group} (profile ${profile})`,
  planSummary: (stands: number, vms: number, cluster: string) => `${en_(stands, 'stand')}, ${en_(vms, 'vm')} on cluster ${cluster}.`,
  planNodes: 'Stands per node',
  planNodeLine: (node: string, stands: number, mem: number, cpu: number) =>
    `${node}: ${en_(stands, 'stand')}, memory ${mem}%, CPU ${cpu}%`,
  planExcluded: 'Left out',
  planWarnings: 'Warnings',
  planIsolation: 'Isolation',
  planIsolated: (denied: number, allowIn: number) =>
    `Each stand is isolated by the Proxmox firewall: no access to the cluster nodes, ${denied} blocked address(es)/network(s) in total, or other stands; ${allowIn} network(s) may connect in.`,
  planNotIsolated: 'Not isolated: VMs on a shared bridge can reach the hosts and other stands.',
  standIsolated: (isolated: boolean): string => (isolated ? 'Isolated (Proxmox firewall)' : 'Not isolated'),
  planRefused: 'The plan was refused; nothing was created.',
  planConfirm: (seconds: number) => `Confirm within ${seconds} s.`,
  planEstimate: 'Estimated time',
  prepareHead: (profile: string, cluster: string, needed: number, toMake: number) =>
    `Template replicas for profile ${profile} on ${cluster}: ${needed} needed, ${toMake} to make.`,
  prepareSkipped: (what: string) => `Skipped ${what}`,
  preparePresent: 'present',
  prepareDone: (made: number, present: number, failed: number) => `Done: ${made} made, ${present} present, ${failed} failed.`,
  planEstimateValue: (ms: number, toMake: number, reused: number) =>
    `${formatEstimate(ms)}${toMake > 0 ? ` (makes ${toMake} template ${toMake === 1 ? 'replica' : 'replicas'} first)` : reused > 0 ? ` (its ${reused} template ${reused === 1 ? 'replica exists' : 'replicas exist'}: makes none)` : ''}`,
  progressTitle: (kind: string, group: string) => `${kind} ${group}`,
  kinds: { deploy: 'Deploy', cleanup: 'Cleanup', reset: 'Reset', start: 'Start', stop: 'Stop' } as Record<string, string>,
  standStates: { pending: 'waiting', running: 'working', done: 'done', failed: 'failed' } as Record<string, string>,
  progressLine: (done: number, total: number) => `${done}/${en_(total, 'stand')} done`,
  eta: (text: string) => `about ${text} left`,
  retries: (n: number) => en_(n, 'retry'),
  failures: (n: number) => `${n} failed`,
  moreStands: (n: number) => `… and ${n} more`,
  finished: (outcome: string) => `Finished: ${outcome}`,
  outcomes: { succeeded: 'success', partial: 'partly failed', failed: 'failed', cancelled: 'cancelled' } as Record<string, string>,
  movedToChannel: (url: string) => `Progress continues in a channel message: ${url}`,
  resumedAfterRestart: 'Resumed after a bot restart.',
  paused: 'Paused: the bot is restarting; the job resumes when it is back.',
  credentialsFile: (group: string) => `Credentials for ${group} (shown once; keep them safe).`,
  credentialsDm: (group: string) => `Credentials for group ${group} (shown once; keep them safe):`,
  studentDm: (userid: string, group: string) => `Your stand in ${group} is ready. Login: ${userid}`,
  password: 'Password',
  console: 'Console',
  // cleanup / reset
  cleanupTitle: (group: string) => `Cleanup of ${group}: what will be removed`,
  resetTitle: (group: string) => `Reset of ${group} to the start snapshot`,
  nothingToDo: 'Nothing to do.',
  unknownProfile: (p: string, known: string) => `No profile ${p} (available: ${known}).`,
  noSuchGroup: (group: string) => `No group ${group}.`,
  // status
  statusTitle: (cluster: string) => `Cluster ${cluster}`,
  cpu: 'CPU',
  memory: 'Memory',
  storage: 'Storage',
  usedAllocTotal: (used: string, alloc: string, total: string) => `used ${used} · allocated ${alloc} · total ${total}`,
  groups: 'Groups',
  groupLine: (name: string, stands: number) => `${name}: ${en_(stands, 'stand')}`,
  jobs: 'Running jobs',
  none: 'none',
  page: (n: number, of: number) => `Page ${n}/${of}`,
  offline: 'offline',
  chartTitle: 'CPU and memory, last hour',
  // stand (self-service)
  noIdentity: 'You have no Proxmox account linked. Ask a teacher to /link you.',
  noStand: 'You have no stand. Use /stand request.',
  standInfo: (group: string, node: string, status: string) => `Stand in ${group} on ${node}: ${status}`,
  leaseUntil: (at: string) => `Lease ends ${at}`,
  profileNotAllowed: (p: string, allowed: string) => `Profile ${p} is not available for self-service (allowed: ${allowed}).`,
  standLimit: (n: number) => `You already have ${en_(n, 'stand')}, the most a student may have.`,
  standRequested: (group: string) => `Your stand in ${group} is being created…`,
  standReady: (group: string, userid: string) => `Your stand in ${group} is ready. Login: ${userid}`,
  standDone: (what: string) => `Done: ${what}.`,
  selfServiceOff: 'Self-service stands are not enabled on this server.',
  pickGroup: (groups: string) => `You have stands in several groups; name one: ${groups}.`,
  notSelfService: (group: string) => `The stand in ${group} was set up by a teacher; ask them to remove it.`,
  standFailed: (reason: string) => `The stand could not be created: ${reason}`,
  standActions: { reset: 'reset to the start snapshot', rollback: 'rolled back to the start snapshot', start: 'started', stop: 'stopped', delete: 'deleted' } as Record<string, string>,
  leaseWarning: (group: string, at: string) => `Your stand in ${group} expires ${at}. Save your work.`,
  // link
  linked: (member: string, userid: string) => `<@${member}> is now linked to ${userid}.`,
  unlinked: (member: string) => `<@${member}> is no longer linked.`,
  notLinked: (member: string) => `<@${member}> was not linked.`,
  badUserid: (u: string) => `${u} is not a valid Proxmox user id (name@realm).`,
  useridRefused: (why: string) => `This Proxmox user cannot get a stand: ${why}.`,
  identityTaken: (userid: string) =>
    `The Proxmox account ${userid} that your Discord name leads to already exists and was not created for you. Ask a teacher to /link you to your own account.`,
  attachmentTimeout: (seconds: number) => `The attachment did not finish downloading within ${seconds} s. Upload it again.`,
  // audit
  auditLine: (actor: string, action: string, target: string, outcome: string) => `${actor} ${action} ${target}: ${outcome}`,
};

export type Messages = typeof en;

const ru: Messages = {
  lang: 'ru',
  accessNames: { admin: 'администратор', teacher: 'преподаватель', student: 'студент' },
  denied: (need) => `Доступ запрещён: нужна роль «${need}».`,
  deniedButton: (owner) => `Эту кнопку может нажать только <@${owner}>.`,
  internalError: (ref) => `Внутренняя ошибка, код ${ref}. Подробности в журнале бота.`,
  proxmoxError: (msg) => `Proxmox отклонил запрос: ${msg}`,
  unknownCommand: 'Бот не знает этой команды (возможно, команды нужно зарегистрировать заново).',
  confirmExpired: 'Срок подтверждения истёк или оно уже использовано. Запустите команду снова.',
  confirm: 'Подтвердить',
  cancel: 'Отмена',
  cancelled: 'Отменено. Ничего не изменено.',
  timedOut: 'Подтверждение не получено вовремя. Ничего не изменено.',
  prev: '◀',
  next: '▶',
  groupBusy: (group, holder) => `Группа ${group} занята: над ней выполняет задачу ${holder}.`,
  queued: (ahead) => `В очереди: впереди на этом кластере ${ru_(ahead, 'job')}.`,
  attachmentHost: (host) => `Вложение получено с ${host}, этот адрес не разрешён для вложений.`,
  attachmentTooBig: (size, max) => `Размер вложения ${ru_(size, 'byte')}; предел ${ru_(max, 'byte')}.`,
  attachmentType: (name) => `${name}: неподдерживаемый тип файла; пришлите список пользователей .txt, .csv, .yml или .yaml.`,
  attachmentFetch: (status) => `Не удалось скачать вложение (${status}).`,
  listErrors: (name, n) => `${name}: ${ru_(n, 'error')}; ничего не создано.`,
  planTitle: (group, profile) => `План развёртывания: ${group} (профиль ${profile})`,
  planSummary: (stands, vms, cluster) => `${ru_(stands, 'stand')}, ${ru_(vms, 'vm')}, кластер ${cluster}.`,
  planNodes: 'Стенды по узлам',
  planNodeLine: (node, stands, mem, cpu) => `${node}: ${ru_(stands, 'stand')}, память ${mem}%, ЦП ${cpu}%`,
  planExcluded: 'Исключены',
  planWarnings: 'Предупреждения',
  planIsolation: 'Изоляция',
  planIsolated: (denied, allowIn) =>
    `Каждый стенд изолирован межсетевым экраном Proxmox: нет доступа к узлам кластера, к другим стендам и всего к ${denied} запрещённым адресам/сетям; входящие соединения разрешены из ${allowIn} сетей.`,
  planNotIsolated: 'Без изоляции: ВМ на общем мосту видят узлы и другие стенды.',
  standIsolated: (isolated) => (isolated ? 'Изолирован (межсетевой экран Proxmox)' : 'Не изолирован'),
  planRefused: 'План отклонён; ничего не создано.',
  planConfirm: (seconds) => `Подтвердите в течение ${seconds} с.`,
  planEstimate: 'Оценка времени',
  prepareHead: (profile, cluster, needed, toMake) => `Копии шаблонов для профиля ${profile} на ${cluster}: нужно ${needed}, сделать ${toMake}.`,
  prepareSkipped: (what) => `Пропущено ${what}`,
  preparePresent: 'уже есть',
  prepareDone: (made, present, failed) => `Готово: сделано ${made}, уже было ${present}, ошибок ${failed}.`,
  planEstimateValue: (ms, toMake, reused) =>
    `${ruDuration(ms)}${toMake > 0 ? ` (сначала копии шаблонов: ${toMake})` : reused > 0 ? ` (копии шаблонов уже есть: ${reused}, новых не нужно)` : ''}`,
  progressTitle: (kind, group) => `${kind} ${group}`,
  kinds: { deploy: 'Развёртывание', cleanup: 'Удаление', reset: 'Сброс', start: 'Запуск', stop: 'Остановка' },
  standStates: { pending: 'ожидает', running: 'в работе', done: 'готов', failed: 'ошибка' },
  progressLine: (done, total) => `готово стендов: ${done} из ${total}`,
  eta: (text) => `осталось около ${text}`,
  retries: (n) => ru_(n, 'retry'),
  failures: (n) => ru_(n, 'error'),
  moreStands: (n) => `… и ещё ${n}`,
  finished: (outcome) => `Завершено: ${outcome}`,
  outcomes: { succeeded: 'успешно', partial: 'частично с ошибками', failed: 'с ошибкой', cancelled: 'отменено' },
  movedToChannel: (url) => `Ход выполнения продолжается в сообщении канала: ${url}`,
  resumedAfterRestart: 'Продолжено после перезапуска бота.',
  paused: 'Приостановлено: бот перезапускается; задача продолжится после запуска.',
  credentialsFile: (group) => `Учётные данные группы ${group} (показываются один раз; сохраните их).`,
  credentialsDm: (group) => `Учётные данные группы ${group} (показываются один раз; сохраните их):`,
  studentDm: (userid, group) => `Ваш стенд в ${group} готов. Логин: ${userid}`,
  password: 'Пароль',
  console: 'Консоль',
  cleanupTitle: (group) => `Удаление ${group}: что будет удалено`,
  resetTitle: (group) => `Сброс ${group} к снимку start`,
  nothingToDo: 'Делать нечего.',
  unknownProfile: (p, known) => `Профиля ${p} нет (доступны: ${known}).`,
  noSuchGroup: (group) => `Группы ${group} нет.`,
  statusTitle: (cluster) => `Кластер ${cluster}`,
  cpu: 'ЦП',
  memory: 'Память',
  storage: 'Хранилище',
  usedAllocTotal: (used, alloc, total) => `занято ${used} · выделено ${alloc} · всего ${total}`,
  groups: 'Группы',
  groupLine: (name, stands) => `${name}: ${ru_(stands, 'stand')}`,
  jobs: 'Выполняемые задачи',
  none: 'нет',
  page: (n, of) => `Страница ${n}/${of}`,
  offline: 'недоступен',
  chartTitle: 'ЦП и память за последний час',
  noIdentity: 'К вам не привязана учётная запись Proxmox. Попросите преподавателя выполнить /link.',
  noStand: 'У вас нет стенда. Используйте /stand request.',
  standInfo: (group, node, status) => `Стенд в ${group} на ${node}: ${status}`,
  leaseUntil: (at) => `Аренда заканчивается ${at}`,
  profileNotAllowed: (p, allowed) => `Профиль ${p} недоступен для самообслуживания (доступны: ${allowed}).`,
  standLimit: (n) => `У вас уже ${ru_(n, 'stand')}, это максимум для студента.`,
  standRequested: (group) => `Ваш стенд в ${group} создаётся…`,
  standReady: (group, userid) => `Ваш стенд в ${group} готов. Логин: ${userid}`,
  standDone: (what) => `Готово: ${what}.`,
  selfServiceOff: 'Самостоятельное создание стендов на этом сервере выключено.',
  pickGroup: (groups) => `У вас стенды в нескольких группах; укажите одну: ${groups}.`,
  notSelfService: (group) => `Стенд в ${group} создан преподавателем; попросите его удалить стенд.`,
  standFailed: (reason) => `Не удалось создать стенд: ${reason}`,
  standActions: { reset: 'сброшен к снимку start', rollback: 'возвращён к снимку start', start: 'запущен', stop: 'остановлен', delete: 'удалён' },
  leaseWarning: (group, at) => `Ваш стенд в ${group} истекает ${at}. Сохраните работу.`,
  linked: (member, userid) => `<@${member}> теперь привязан к ${userid}.`,
  unlinked: (member) => `<@${member}> больше не привязан.`,
  notLinked: (member) => `<@${member}> не был привязан.`,
  badUserid: (u) => `${u} — недопустимый идентификатор пользователя Proxmox (имя@realm).`,
  useridRefused: (why) => `Этому пользователю Proxmox нельзя выдать стенд: ${why}.`,
  identityTaken: (userid) =>
    `Учётная запись Proxmox ${userid}, которая получается из вашего имени в Discord, уже существует и создана не для вас. Попросите преподавателя привязать вас к вашей учётной записи через /link.`,
  attachmentTimeout: (seconds) => `Вложение не скачалось за ${seconds} с. Загрузите его ещё раз.`,
  auditLine: (actor, action, target, outcome) => `${actor} ${action} ${target}: ${outcome}`,
};

const catalogs: Record<Lang, Messages> = { en, ru };

/** Discord locales are `ru`, `en-US`, `en-GB`, …: Russian for `ru`, English for everything else. */
export function langFor(locale: string | null | undefined, fixed?: Lang | null): Lang {
  if (fixed) return fixed;
  return locale?.toLowerCase().startsWith('ru') ? 'ru' : 'en';
}

export function messages(lang: Lang): Messages {
  return catalogs[lang];
}
