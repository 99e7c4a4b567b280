/**
 * The one error catalogue. Every error a client can see has a stable id, an HTTP status
 * and a message in French (users) and English. Ids never change meaning once shipped:
 * clients, logs and support scripts match on them.
 */
export const ERRORS = {
  'request.invalid': { status: 400, fr: 'La requête est invalide.', en: 'The request is invalid.' },
  'request.malformed_json': { status: 400, fr: 'Le contenu envoyé n’est pas du JSON valide.', en: 'The body is not valid JSON.' },
  'request.unknown_field': { status: 400, fr: 'La requête contient un champ inconnu.', en: 'The request contains an unknown field.' },
  'request.too_large': { status: 413, fr: 'Le contenu envoyé est trop volumineux.', en: 'The request body is too large.' },
  'request.unsupported_media_type': { status: 415, fr: 'Ce type de contenu n’est pas accepté ici.', en: 'Unsupported content type.' },
  'request.timeout': { status: 408, fr: 'La requête a pris trop de temps.', en: 'The request took too long.' },
  'request.not_found': { status: 404, fr: 'Cette page ou ressource n’existe pas.', en: 'Not found.' },
  'request.method_not_allowed': { status: 405, fr: 'Cette action n’est pas possible ici.', en: 'Method not allowed.' },
  'request.cross_origin': { status: 403, fr: 'Requête refusée : elle ne vient pas de Préau.', en: 'Cross-origin request refused.' },
  'auth.required': { status: 401, fr: 'Vous devez vous connecter.', en: 'You must sign in.' },
  'auth.invalid_credentials': { status: 401, fr: 'Identifiant ou mot de passe incorrect.', en: 'Wrong identifier or password.' },
  'auth.throttled': { status: 429, fr: 'Trop d’essais. Réessayez dans {wait}.', en: 'Too many attempts. Try again in {wait}.' },
  'auth.busy': { status: 503, fr: 'Préau est très sollicité. Nouvel essai dans {wait}.', en: 'Préau is very busy. Retrying in {wait}.' },
  'auth.csrf': { status: 403, fr: 'Votre page n’est plus à jour : rechargez-la puis recommencez.', en: 'Missing or invalid CSRF token: reload the page.' },
  'auth.account_not_active': { status: 403, fr: 'Ce compte n’est pas encore activé : utilisez le code d’activation remis par votre établissement.', en: 'This account is not activated yet: use your activation code.' },
  'auth.invalid_activation_code': { status: 401, fr: 'Identifiant ou code d’activation incorrect ou expiré.', en: 'Wrong identifier or activation code, or the code has expired.' },
  'auth.weak_password': { status: 400, fr: 'Le mot de passe doit contenir au moins {min} caractères et être différent de l’identifiant.', en: 'The password must have at least {min} characters and differ from the identifier.' },
  'auth.wrong_current_password': { status: 403, fr: 'Le mot de passe actuel est incorrect.', en: 'The current password is wrong.' },
  'access.forbidden': { status: 403, fr: 'Vous n’avez pas accès à cette ressource.', en: 'You do not have access to this resource.' },
  'session.not_found': { status: 404, fr: 'Cette session n’existe pas ou a déjà été fermée.', en: 'No such session.' },
  'person.departed': { status: 409, fr: 'Cette personne a quitté l’établissement : son compte ne peut plus être réactivé.', en: 'This person has left the school.' },
  'person.not_found': { status: 404, fr: 'Cette personne est introuvable.', en: 'No such person.' },
  'school.not_found': { status: 404, fr: 'Cet établissement est introuvable.', en: 'No such school.' },
  'class.not_found': { status: 404, fr: 'Cette classe est introuvable.', en: 'No such class.' },
  'idempotency.invalid_key': { status: 400, fr: 'La clé d’idempotence est invalide : de 1 à {max} caractères parmi les lettres, les chiffres, « - », « _ », « . » et « : ».', en: 'Invalid Idempotency-Key: 1 to {max} letters, digits, “-”, “_”, “.” or “:”.' },
  'idempotency.key_reused': { status: 422, fr: 'Cette clé d’idempotence a déjà servi pour une autre modification.', en: 'This Idempotency-Key was already used for a different request.' },
  'idempotency.in_progress': { status: 409, fr: 'Cette modification est déjà en cours d’envoi. Nouvel essai dans {wait}.', en: 'This change is already being applied. Retry in {wait}.' },
  'file.too_large': { status: 413, fr: 'Ce fichier est trop volumineux (maximum {max}).', en: 'This file is too large (at most {max}).' },
  'files.too_large': { status: 413, fr: 'Ces fichiers sont trop volumineux ensemble (maximum {max} en tout).', en: 'These files are too large together (at most {max} in all).' },
  'file.too_many': { status: 413, fr: 'Trop de fichiers envoyés en une fois.', en: 'Too many files in one request.' },
  'file.not_found': { status: 404, fr: 'Ce fichier est introuvable.', en: 'No such file.' },
  'homework.not_found': { status: 404, fr: 'Cette entrée du cahier de textes est introuvable.', en: 'No such cahier de textes entry.' },
  'homework.invalid_date': { status: 400, fr: 'Cette date n’existe pas ou sort de l’année scolaire.', en: 'This date does not exist or is outside the school year.' },
  'homework.invalid_audience': { status: 400, fr: 'Indiquez une classe ou un groupe (l’un des deux) que vous enseignez.', en: 'Give one class or one group that you teach.' },
  'homework.invalid_subject': { status: 400, fr: 'Cette matière est inconnue.', en: 'Unknown subject.' },
  'homework.body_too_long': { status: 413, fr: 'Le texte est trop long (maximum {max} caractères une fois mis en forme).', en: 'The text is too long (at most {max} characters).' },
  'homework.invalid_publication': { status: 400, fr: 'La date de publication doit être dans l’avenir, à moins d’un an.', en: 'The publication time must be in the future, within a year.' },
  'homework.not_handin': { status: 409, fr: 'Ce travail ne se rend pas en ligne.', en: 'This work is not handed in online.' },
  'homework.too_many_attachments': { status: 409, fr: 'Cette entrée a déjà le nombre maximal de pièces jointes ({max}).', en: 'This entry already has the most attachments allowed ({max}).' },
  'handin.empty': { status: 400, fr: 'Le rendu est vide : ajoutez un texte ou un fichier.', en: 'The hand-in is empty: add a text or a file.' },
  'handin.too_large': { status: 413, fr: 'Le rendu est trop volumineux (maximum {max} en tout).', en: 'The hand-in is too large (at most {max} in all).' },
  'handin.deadline_passed': { status: 409, fr: 'La date limite est passée : le rendu déjà envoyé ne peut plus être remplacé.', en: 'The deadline has passed: the hand-in can no longer be replaced.' },
  'handin.already_returned': { status: 409, fr: 'Le professeur a déjà corrigé ce rendu : il ne peut plus être remplacé.', en: 'The teacher has already returned this hand-in.' },
  'handin.not_found': { status: 404, fr: 'Ce rendu est introuvable.', en: 'No such hand-in.' },
  'handin.key_reused': { status: 422, fr: 'Cette clé d’idempotence a déjà servi pour un autre rendu.', en: 'This Idempotency-Key was already used for another hand-in.' },
  'handin.zip_too_large': { status: 413, fr: 'Trop de rendus pour une seule archive : téléchargez-les par élève.', en: 'Too many hand-ins for one archive.' },
  'timetable.not_found': { status: 404, fr: 'Ce cours est introuvable.', en: 'No such lesson.' },
  'timetable.no_calendar': { status: 409, fr: 'L’établissement n’a pas encore de calendrier scolaire (dates de l’année, semaine A, vacances).', en: 'The school has no school-year calendar yet.' },
  'timetable.invalid_calendar': { status: 400, fr: 'Calendrier invalide : {reason}.', en: 'Invalid calendar: {reason}.' },
  'timetable.invalid_change': { status: 400, fr: 'Modification de cours invalide : {reason}.', en: 'Invalid lesson change: {reason}.' },
  'timetable.import_invalid': { status: 400, fr: 'Le fichier d’emploi du temps contient des erreurs ; rien n’a été importé.', en: 'The timetable file has errors; nothing was imported.' },
  'calendar.feed_not_found': { status: 404, fr: 'Cet abonnement d’agenda n’existe pas ou a été révoqué.', en: 'No such calendar subscription.' },
  'edge.too_many_connections': { status: 503, fr: 'Trop de connexions sont ouvertes depuis votre réseau. Nouvel essai dans {wait}.', en: 'Too many open connections from your network. Retry in {wait}.' },
  'edge.overloaded': { status: 503, fr: 'Préau est très sollicité en ce moment. Nouvel essai automatique dans {wait}.', en: 'Préau is very busy right now. Retrying in {wait}.' },
  'edge.rate_limited': { status: 429, fr: 'Trop de demandes en peu de temps. Réessayez dans {wait}.', en: 'Too many requests. Try again in {wait}.' },
  'waiting.queued': { status: 503, fr: 'Beaucoup d’élèves se connectent en même temps : vous avez une place dans la file d’attente (position {position}). Attente estimée : {wait}.', en: 'Many people are signing in at once: you have a place in the queue (position {position}). Estimated wait: {wait}.' },
  'waiting.full': { status: 503, fr: 'La file d’attente est complète. Nouvel essai dans {wait}.', en: 'The waiting room is full. Retry in {wait}.' },
  'waiting.invalid_ticket': { status: 403, fr: 'Ce ticket de file d’attente n’est pas valable ici : reprenez une place dans la file.', en: 'This waiting-room ticket is not valid here: queue again.' },
  'waiting.ticket_expired': { status: 403, fr: 'Votre ticket de file d’attente a expiré : reprenez une place dans la file.', en: 'Your waiting-room ticket has expired: queue again.' },
  'waiting.ticket_used': { status: 409, fr: 'Ce ticket de file d’attente a déjà servi : reprenez une place dans la file.', en: 'This waiting-room ticket has already been used: queue again.' },
  'waiting.not_your_turn': { status: 409, fr: 'Ce n’est pas encore votre tour (position {position}). Attente estimée : {wait}.', en: 'It is not your turn yet (position {position}). Estimated wait: {wait}.' },
  'challenge.required': { status: 403, fr: 'Votre navigateur doit faire une courte vérification automatique avant la connexion (quelques secondes).', en: 'Your browser must complete a short automatic check before signing in.' },
  'challenge.invalid': { status: 403, fr: 'La vérification automatique n’a pas abouti : elle recommence.', en: 'The automatic check failed: it starts again.' },
  'challenge.used': { status: 409, fr: 'Cette vérification a déjà servi : une nouvelle commence.', en: 'This check has already been used: a new one starts.' },
  'realtime.upgrade_required': { status: 426, fr: 'Cette adresse ne sert que les connexions WebSocket.', en: 'This address only serves WebSocket connections.' },
  'realtime.full': { status: 503, fr: 'Les notifications en direct sont momentanément indisponibles : elles s’afficheront au prochain rafraîchissement. Nouvel essai dans {wait}.', en: 'Live notifications are unavailable for now. Retrying in {wait}.' },
  'realtime.bad_message': { status: 400, fr: 'Message refusé : il n’a pas la forme attendue.', en: 'Message refused: it does not have the expected shape.' },
  'realtime.unknown_type': { status: 400, fr: 'Message refusé : ce type de message est inconnu.', en: 'Message refused: unknown message type.' },
  'realtime.too_large': { status: 413, fr: 'Message refusé : il est trop volumineux.', en: 'Message refused: it is too large.' },
  'realtime.rate_limited': { status: 429, fr: 'Trop de messages en peu de temps : celui-ci n’a pas été pris en compte.', en: 'Too many messages: this one was dropped.' },
  'classroom.not_found': { status: 404, fr: 'Cette classe virtuelle est introuvable.', en: 'No such virtual class.' },
  'classroom.invalid_audience': { status: 400, fr: 'Indiquez une classe ou un groupe (l’un des deux) que vous enseignez.', en: 'Give one class or one group that you teach.' },
  'classroom.invalid_lesson': { status: 400, fr: 'Ce cours est introuvable dans votre emploi du temps.', en: 'This lesson is not in your timetable.' },
  'classroom.closed': { status: 409, fr: 'Cette classe virtuelle est terminée.', en: 'This virtual class has ended.' },
  'classroom.not_open': { status: 409, fr: 'Le professeur n’a pas encore ouvert la classe virtuelle.', en: 'The teacher has not opened the virtual class yet.' },
  'classroom.not_joined': { status: 409, fr: 'Rejoignez d’abord la classe virtuelle.', en: 'Join the virtual class first.' },
  'classroom.teacher_only': { status: 403, fr: 'Seul un professeur de la classe virtuelle peut faire cela.', en: 'Only a teacher of the virtual class can do this.' },
  'classroom.room_full': { status: 503, fr: 'La classe virtuelle est complète ({max} participants au plus).', en: 'The virtual class is full (at most {max} participants).' },
  'classroom.school_full': { status: 503, fr: 'Votre établissement a atteint le nombre maximal de classes virtuelles ou de participants simultanés ({max}). Réessayez dans quelques minutes.', en: 'Your school has reached its limit of simultaneous virtual classes or participants ({max}).' },
  'classroom.node_full': { status: 503, fr: 'Le serveur des classes virtuelles est complet pour le moment ({max} au plus). Réessayez dans quelques minutes.', en: 'The virtual-class server is full for now ({max} at most).' },
  'classroom.media_unavailable': { status: 503, fr: 'Le serveur audio et vidéo des classes virtuelles n’est pas disponible : la classe ne peut pas ouvrir pour le moment.', en: 'The virtual-class media server is unavailable.' },
  'classroom.other_node': { status: 409, fr: 'Cette classe virtuelle est animée depuis un autre serveur Préau : rechargez la page pour la rejoindre.', en: 'This virtual class is hosted by another Préau server: reload the page.' },
  'classroom.host_unreachable': { status: 503, fr: 'Le serveur Préau qui anime cette classe virtuelle est injoignable pour le moment. Réessayez dans un instant.', en: 'The Préau server hosting this virtual class cannot be reached for now. Try again in a moment.' },
  'classroom.guests_not_allowed': { status: 403, fr: 'Le professeur n’a pas ouvert cette classe virtuelle aux invités.', en: 'The teacher has not opened this virtual class to guests.' },
  'classroom.guest_link_invalid': { status: 404, fr: 'Ce lien d’invitation n’est pas valable : il a expiré ou a été révoqué.', en: 'This invitation link is not valid: expired or revoked.' },
  'classroom.locked': { status: 409, fr: 'La classe est verrouillée : le professeur vous fera entrer.', en: 'The class is locked: the teacher will let you in.' },
  'classroom.unknown_participant': { status: 404, fr: 'Cette personne n’est pas dans la classe virtuelle.', en: 'This person is not in the virtual class.' },
  'classroom.chat_disabled': { status: 403, fr: 'Le professeur a désactivé la discussion des élèves.', en: 'The teacher has turned pupil chat off.' },
  'classroom.text_too_long': { status: 413, fr: 'Le texte est trop long (maximum {max} caractères).', en: 'The text is too long (at most {max} characters).' },
  'classroom.too_many': { status: 409, fr: 'Limite atteinte : {max} au plus.', en: 'Limit reached: at most {max}.' },
  'classroom.poll_invalid': { status: 400, fr: 'Sondage invalide : {reason}.', en: 'Invalid poll: {reason}.' },
  'classroom.poll_closed': { status: 409, fr: 'Ce sondage est fermé ou introuvable.', en: 'This poll is closed or unknown.' },
  'classroom.poll_answered': { status: 409, fr: 'Vous avez déjà répondu à ce sondage.', en: 'You have already answered this poll.' },
  'classroom.whiteboard_forbidden': { status: 403, fr: 'Le professeur ne vous a pas autorisé à dessiner sur le tableau.', en: 'The teacher has not allowed you to draw on the whiteboard.' },
  'classroom.invalid_command': { status: 400, fr: 'Action impossible dans la classe virtuelle : {reason}.', en: 'Action not possible in the virtual class: {reason}.' },
  'notification.not_found': { status: 404, fr: 'Cette notification est introuvable.', en: 'No such notification.' },
  'message.not_found': { status: 404, fr: 'Ce message est introuvable.', en: 'No such message.' },
  'message.no_recipient': { status: 400, fr: 'Choisissez au moins un destinataire.', en: 'Choose at least one recipient.' },
  'message.recipient_forbidden': { status: 403, fr: 'Vous ne pouvez pas écrire à l’un des destinataires choisis.', en: 'You may not write to one of the chosen recipients.' },
  'message.too_many_recipients': { status: 400, fr: 'Trop de destinataires (maximum {max} personnes par message).', en: 'Too many recipients (at most {max} people per message).' },
  'message.body_too_long': { status: 413, fr: 'Le message est trop long (maximum {max} caractères une fois mis en forme).', en: 'The message is too long (at most {max} characters).' },
  'message.empty': { status: 400, fr: 'Le message est vide : écrivez un objet ou un texte.', en: 'The message is empty.' },
  'message.rate_limited': { status: 429, fr: 'Vous avez envoyé beaucoup de messages. Réessayez dans {wait}.', en: 'You have sent many messages. Try again in {wait}.' },
  'message.not_draft': { status: 409, fr: 'Ce message est déjà envoyé : il ne peut plus être modifié.', en: 'This message has already been sent.' },
  'message.too_many_attachments': { status: 409, fr: 'Ce message a déjà le nombre maximal de pièces jointes ({max}).', en: 'This message already has the most attachments allowed ({max}).' },
  'message.attachments_too_large': { status: 413, fr: 'Les pièces jointes sont trop volumineuses (maximum {max} en tout).', en: 'The attachments are too large (at most {max} in all).' },
  'liaison.not_found': { status: 404, fr: 'Ce mot du carnet de liaison est introuvable.', en: 'No such liaison note.' },
  'liaison.no_parent': { status: 400, fr: 'Aucun responsable légal à qui adresser ce mot.', en: 'No parent to address this note to.' },
  'liaison.body_too_long': { status: 413, fr: 'Le mot est trop long (maximum {max} caractères une fois mis en forme).', en: 'The note is too long (at most {max} characters).' },
  'liaison.reminders_exhausted': { status: 409, fr: 'Le nombre maximal de rappels ({max}) a été atteint pour ce mot.', en: 'The most reminders allowed ({max}) have been sent for this note.' },
  'liaison.remind_too_soon': { status: 429, fr: 'Un rappel vient d’être envoyé. Nouveau rappel possible dans {wait}.', en: 'A reminder was just sent. Try again in {wait}.' },
  'file.range_not_satisfiable': { status: 416, fr: 'La partie demandée de ce fichier n’existe pas (taille : {size} octets).', en: 'The requested range does not exist (size: {size} bytes).' },
  'documents.not_found': { status: 404, fr: 'Ce dossier ou ce document est introuvable.', en: 'No such folder or document.' },
  'documents.name_taken': { status: 409, fr: 'Ce dossier contient déjà un élément nommé « {name} » : choisissez un autre nom.', en: 'This folder already holds an item named “{name}”.' },
  'documents.invalid_name': { status: 400, fr: 'Nom invalide : de 1 à {max} caractères, sans / \\ : * ? " < > |, ni « . » ou « .. » seuls, ni point final.', en: 'Invalid name: 1 to {max} characters, without / \\ : * ? " < > |, not “.” or “..”, no final dot.' },
  'documents.too_deep': { status: 409, fr: 'Trop de dossiers imbriqués (au plus {max} niveaux).', en: 'Folders nested too deep (at most {max} levels).' },
  'documents.folder_full': { status: 409, fr: 'Ce dossier ou cet espace est plein (au plus {max} éléments) : rangez-en une partie ailleurs.', en: 'This folder or space is full (at most {max} items).' },
  'documents.invalid_move': { status: 409, fr: 'Impossible de déplacer cet élément là : {reason}.', en: 'This item cannot be moved there: {reason}.' },
  'documents.not_in_trash': { status: 409, fr: 'Cet élément n’est pas dans la corbeille.', en: 'This item is not in the trash.' },
  'quota.exceeded': { status: 413, fr: 'Espace insuffisant : il vous reste {left} sur {limit}. Supprimez des documents ou videz la corbeille.', en: 'Not enough space: {left} left of {limit}. Delete documents or empty the trash.' },
  'upload.not_found': { status: 404, fr: 'Cet envoi est introuvable ou a expiré : recommencez l’envoi du fichier.', en: 'No such upload, or it has expired: start again.' },
  'upload.wrong_offset': { status: 409, fr: 'L’envoi reprend à la position {offset}.', en: 'The upload resumes at offset {offset}.' },
  'upload.chunk_too_large': { status: 413, fr: 'Morceau trop gros (au plus {max} par envoi).', en: 'Chunk too large (at most {max}).' },
  'upload.too_many': { status: 429, fr: 'Vous avez déjà {max} envois en cours : terminez-en ou annulez-en un.', en: 'You already have {max} uploads in progress.' },
  'upload.incomplete': { status: 409, fr: 'Le fichier n’est pas encore entièrement envoyé ({received} octets sur {size}).', en: 'The file is not fully uploaded yet ({received} of {size} bytes).' },
  'upload.checksum_mismatch': { status: 422, fr: 'Le fichier reçu ne correspond pas à l’empreinte annoncée : recommencez l’envoi.', en: 'The received file does not match the announced SHA-256: start again.' },
  'upload.busy': { status: 409, fr: 'Un autre morceau de cet envoi est en cours : réessayez dans un instant.', en: 'Another chunk of this upload is being received.' },
  'platform.read_only': { status: 503, fr: 'Préau est en lecture seule pour le moment : vous pouvez tout consulter, mais rien modifier. Nouvel essai dans {wait}.', en: 'Préau is read-only for now: you can read everything but change nothing.' },
  'platform.database_unavailable': { status: 503, fr: 'Préau ne joint plus sa base de données pour le moment. Nouvel essai dans {wait}.', en: 'Préau cannot reach its database right now. Retrying in {wait}.' },
  'news.not_found': { status: 404, fr: 'Cette actualité est introuvable.', en: 'No such news item.' },
  'news.body_too_long': { status: 413, fr: 'Le texte de l’actualité est trop long (maximum {max} caractères une fois mis en forme).', en: 'The news text is too long (at most {max} characters).' },
  'news.invalid_window': { status: 400, fr: 'Période de publication invalide : le début doit être à moins d’un an, et la fin après le début (au plus un an plus tard).', en: 'Invalid publication window: start within a year, end after the start (at most a year later).' },
  'news.too_many_pinned': { status: 409, fr: 'Déjà {max} actualités épinglées pour ce public : retirez une épingle avant d’en ajouter une.', en: 'Already {max} pinned news items for this audience: unpin one first.' },
  'news.not_editable': { status: 409, fr: 'Cette actualité est retirée ou expirée : elle ne peut plus être modifiée.', en: 'This news item is withdrawn or expired and can no longer be edited.' },
  'news.too_many_attachments': { status: 409, fr: 'Cette actualité a déjà le nombre maximal de pièces jointes ({max}).', en: 'This news item already has the most attachments allowed ({max}).' },
  'news.no_ack_required': { status: 409, fr: 'Cette actualité ne demande pas de confirmation de lecture.', en: 'This news item does not ask for an acknowledgement.' },
  'server.unavailable': { status: 503, fr: 'Préau est momentanément indisponible. Nouvel essai dans {wait}.', en: 'Préau is temporarily unavailable.' },
  'server.internal': { status: 500, fr: 'Une erreur inattendue est survenue. Elle a été enregistrée ; réessayez dans un instant.', en: 'An unexpected error occurred.' },
} as const satisfies Record<string, { status: number; fr: string; en: string }>;

export type ErrorId = keyof typeof ERRORS;

/** An id read from outside (another node's answer) is one of the catalogue's. */
export const isErrorId = (id: string): id is ErrorId => Object.hasOwn(ERRORS, id);

export interface AppErrorOptions {
  /** Values substituted into `{name}` placeholders of the message. */
  params?: Record<string, string | number>;
  /** Machine-readable details safe to show a client (never internal state). */
  details?: Record<string, unknown>;
  /** Seconds before a retry makes sense; sent as `Retry-After`. */
  retryAfterSeconds?: number;
}

export class AppError extends Error {
  readonly status: number;
  constructor(
    readonly id: ErrorId,
    readonly options: AppErrorOptions = {},
  ) {
    super(id);
    this.name = 'AppError';
    this.status = ERRORS[id].status;
  }
}

export type Lang = 'fr' | 'en';

export function renderMessage(id: ErrorId, lang: Lang, params: Record<string, string | number> = {}): string {
  const template: string = ERRORS[id][lang];
  return template.replace(/\{(\w+)\}/g, (_, key: string) => String(params[key] ?? ''));
}

/** "2 minutes", "45 secondes": how a wait reads to a pupil. */
export function describeWait(seconds: number, lang: Lang = 'fr'): string {
  const s = Math.max(1, Math.ceil(seconds));
  if (s < 60) return lang === 'fr' ? `${s} seconde${s > 1 ? 's' : ''}` : `${s} second${s > 1 ? 's' : ''}`;
  const m = Math.ceil(s / 60);
  return lang === 'fr' ? `${m} minute${m > 1 ? 's' : ''}` : `${m} minute${m > 1 ? 's' : ''}`;
}

export interface ErrorBody {
  error: { id: ErrorId; message: string; details?: Record<string, unknown>; retryAfterSeconds?: number };
}

export function errorBody(err: AppError, lang: Lang): ErrorBody {
  const params = { ...(err.options.params ?? {}) };
  if (err.options.retryAfterSeconds !== undefined && params.wait === undefined) {
    params.wait = describeWait(err.options.retryAfterSeconds, lang);
  }
  const body: ErrorBody = { error: { id: err.id, message: renderMessage(err.id, lang, params) } };
  if (err.options.details) body.error.details = err.options.details;
  if (err.options.retryAfterSeconds !== undefined) body.error.retryAfterSeconds = Math.ceil(err.options.retryAfterSeconds);
  return body;
}
