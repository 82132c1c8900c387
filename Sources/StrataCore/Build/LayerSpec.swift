/// A layer as a recipe describes it: its kind, its JSON path and how to construct it.
///
/// Reading a recipe produces specs and constructs nothing (no layer, no plugin `create`, no model
/// builder call); `build` constructs the layer and its children, once, when a run or a summary
/// needs it. A container's construction builds its children's specs.
public struct LayerSpec {
    /// Constructs the layer; a container builds its children through the same `LayerBuild`.
    public typealias Construct = (inout LayerBuild) throws -> any Layer

    public let kind: String
    /// Where the layer is described, e.g. `$.model.layers[2]`.
    public let jsonPath: String
    let construct: Construct

    public init(kind: String, jsonPath: String, construct: @escaping Construct) {
        self.kind = kind
        self.jsonPath = jsonPath
        self.construct = construct
    }

    /// The constructed layer. A failure is recorded in `build.diagnostics` at this spec's JSON
    /// path (unless a child already recorded it) and ends the build with `LayerBuild.Failed`.
    public func build(_ build: inout LayerBuild) throws -> any Layer {
        let layer: any Layer
        do {
            layer = try construct(&build)
        } catch is LayerBuild.Failed {
            throw LayerBuild.Failed()
        } catch {
            build.diagnostics.error(at: jsonPath, "\(error)")
            throw LayerBuild.Failed()
        }
        build.jsonPaths[ObjectIdentifier(layer)] = jsonPath
        return layer
    }

    /// Builds the tree of `spec`, returning the root layer and each layer's JSON path; throws
    /// `RecipeValidationError` (naming `file`) with every problem recorded.
    public static func buildTree(_ spec: LayerSpec, registry: ComponentRegistry, file: String) throws
        -> (root: any Layer, jsonPaths: [ObjectIdentifier: String]) {
        var b = LayerBuild(registry: registry)
        do {
            let root = try spec.build(&b)
            if b.diagnostics.isEmpty { return (root, b.jsonPaths) }
        } catch is LayerBuild.Failed {}
        throw RecipeValidationError(file: file, errors: b.diagnostics.errors)
    }
}

/// The state of one build of a layer tree: where problems go and the JSON path of each layer
/// built (for shape errors).
public struct LayerBuild {
    /// Ends a build after its problem was recorded in `diagnostics`.
    public struct Failed: Error {}

    public let registry: ComponentRegistry
    public let diagnostics = Diagnostics()
    public internal(set) var jsonPaths: [ObjectIdentifier: String] = [:]

    public init(registry: ComponentRegistry) { self.registry = registry }
}

/// A component (loss, optimizer, callback, scheme) that a recipe describes correctly but that
/// refused to be created when the run was built: reported at its JSON path like a recipe error.
public struct ComponentBuildError: Error, CustomStringConvertible {
    public let path: String
    public let message: String
    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }
    public var description: String { "\(path): \(message)" }
}
