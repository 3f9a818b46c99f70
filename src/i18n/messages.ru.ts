/** The engine's user-facing texts in Russian (see messages.en.ts). Names, numbers and Proxmox's own words stay as given. */
import type { EngineCatalog } from './messages.en.js';
import { count, RU } from './plural.js';

const n = (x: number, forms: keyof typeof RU): string => count('ru', x, RU[forms]);

export const ru: EngineCatalog = {
  'cli.error': (p) => `ошибка: ${p.message}`,
  'cli.configHeadline': (p) =>
    p.count > 1
      ? `Во входных файлах найдено проблем: ${p.count} (ничего не создано; подробности на английском):`
      : 'Во входном файле есть проблема (ничего не создано; подробности на английском):',
  'cli.internal': (p) => `внутренняя ошибка, код ${p.ref}`,
  'cli.interrupted': (p) => `прервано («${p.reason}»); запустите ту же команду снова, чтобы завершить`,
  'cli.proxmox': (p) => `ошибка Proxmox VE: «${p.message}»`,
  'cli.tls': (p) => `сертификат TLS кластера не совпадает: «${p.message}»`,
  'refusal.what': () => 'что',
  'refusal.problem': () => 'проблема',
  'refusal.nodesLeftOut': () => 'Исключённые узлы:',
  'refusal.planRefused': () => 'План отклонён; ничего не создано.',
  'group.nameInvalid': (p) =>
    `недопустимое имя группы ${JSON.stringify(p.input)}: от 1 до 40 строчных латинских букв, цифр, «.», «_» или «-», первой должна быть буква или цифра`,
  'group.otherCluster': (p) => `группа ${p.group} уже есть на кластере ${p.cluster}; укажите другую --group`,
  'group.otherProfile': (p) => `группа ${p.group} развёрнута с профилем ${p.profile}, а не ${p.wanted}; укажите другую --group`,
  'group.notFound': (p) => `в файле состояния нет группы ${p.group}`,
  'group.busy': (p) => `группа ${p.group} занята: над ней выполняет задачу ${p.holder} (блокировка до ${p.until})`,
  'group.noStands': (p) => `в группе ${p.group} нет стендов`,
  'stand.notFound': (p) => `у ${p.user} нет стенда в группе ${p.group}`,
  'user.notFound': (p) => `пользователя ${p.userid} нет на ${p.cluster}`,
  'user.passwordNotManaged': (p) => `пароль ${p.userid} не будет изменён: pve-stands управляет только созданными им пользователями`,
  'user.passwordNotOurs': (p) => `пароль ${p.userid} не будет изменён: этого пользователя создал не pve-stands`,
  'resume.finished': (p) => `продолжать нечего: последнее развёртывание ${p.group} (${p.job}) завершено`,
  'resume.nothing': (p) => `продолжать нечего: нет незавершённой задачи развёртывания или группы ${p.group}`,
  'input.placement': (p) => `размещение ${JSON.stringify(p.placement)} не входит в balanced, round-robin, pack, node:<имя>`,
  'input.leaseDuration': (p) => `срок аренды ${JSON.stringify(p.lease)} — не длительность вида 45m, 4h или 2d`,
  'input.leaseOrDate': (p) => `срок аренды ${JSON.stringify(p.lease)} — ни длительность (4h, 2d), ни дата`,
  'plan.emptyList': () => 'список пользователей пуст',
  'plan.templateMissing': () => 'не найден шаблон профиля',
  'plan.profileUnplannable': () => 'профиль невозможно спланировать',
  'plan.sdnForeignPending': () =>
    'применение SDN перезагружает сеть каждого узла, а на некоторых узлах есть чужие неприменённые изменения',
  'plan.noEligibleNode': () => 'нет подходящего узла',
  'plan.noSuchNode': (p) => `размещение ${p.placement}: такого узла нет`,
  'plan.nodeLeftOut': (p) => `размещение ${p.placement}: узел исключён`,
  'plan.doesNotFit': (p) =>
    `класс не помещается: не удаётся разместить ${p.unplaced} из ${n(p.total, p.unit === 'stands' ? 'stand' : 'vm')}`,
  'plan.noVmids': () => 'не хватает свободных VMID',
  'plan.noBridges': () => 'не хватает свободных номеров мостов',
  'plan.noTags': () => 'не хватает свободных тегов SDN',
  'plan.noDisk': () => 'не хватает места на диске',
  'row.machine': (p) => `${p.file}: машина ${p.machine}`,
  'row.noUsers': () => 'нет пользователей',
  'row.templateMissing': (p) => `шаблона ${p.template} нет на кластере ${p.cluster}`,
  'row.templateNameMissing': (p) => `на кластере ${p.cluster} нет шаблона с именем «${p.name}»`,
  'row.templateNameIsVm': (p) =>
    `на кластере ${p.cluster} нет шаблона с именем «${p.name}» (так называется ВМ ${p.vmid}, но она не шаблон)`,
  'row.templateAmbiguous': (p) => `имя шаблона «${p.name}» неоднозначно (${p.ids}): укажите VMID`,
  'row.notATemplate': (p) => `ВМ ${p.vm} не шаблон: связанному клону нужен шаблон (или задайте full: true)`,
  'row.ecorouterNics': (p) => `у ecorouter не больше ${n(p.max, 'network')} (net0 — порт управления)`,
  'row.foreignPending': (p) => `чужие неприменённые изменения сети: ${p.list}`,
  'row.everyNodeLeftOut': () => 'все узлы исключены (см. ниже)',
  'row.notANode': (p) => `не узел кластера ${p.cluster} (узлы: ${p.nodes})`,
  'row.vmidRange': (p) => `диапазон VMID ${p.min}–${p.max}`,
  'row.vmidsNeeded': () => 'классу нужно больше номеров, чем свободно',
  'row.node': (p) => `узел ${p.node}`,
  'row.zone': (p) => `зона ${p.zone}`,
  'row.noFreeBridge': (p) => `не осталось свободных vmbrN в ${p.min}–${p.max}`,
  'row.noFreeTag': (p) => `не осталось свободных тегов в ${p.min}–${p.max}`,
  'row.storage': (p) => (p.node ? `хранилище ${p.storage} на ${p.node}` : `хранилище ${p.storage}`),
  'row.diskNeeds': (p) => `нужно ${p.need} ГиБ, свободно ${p.free} ГиБ`,
  'row.more': (p) => `… и ещё ${p.count}`,
  'row.likewise': () => 'то же самое',
  'node.status': (p) => `узел в состоянии ${p.status}`,
};
